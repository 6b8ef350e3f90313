"""WARC writer round trips: write, read back with ArchiveIterator, run ``warcio check``."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
from surt import surt
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig

HTML = "<html><body><p>Привет, мир</p></body></html>".encode()


def exchange(url="https://www.rferl.org/a/x/1234567.html", payload=HTML, headers=None, **kw):
    return HttpExchange(
        url=url,
        method="GET",
        request_headers=[("User-Agent", "test"), ("Accept-Encoding", "gzip")],
        status=200,
        response_headers=headers
        or [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Path=/"),
        ],
        payload=payload,
        ip_address="127.0.0.1",
        **kw,
    )


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def records(path: Path):
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            yield record, record.content_stream().read()


def test_round_trip_and_provenance(tmp_path):
    writer = RotatingWarcWriter(WarcWriterConfig(directory=tmp_path, run_id="r1"))
    loc = writer.write_exchange(exchange())
    meta = writer.write_metadata(
        loc and "https://www.rferl.org/a/x/1234567.html", loc.record_id, {"title": "t"}
    )
    files = writer.close()
    assert [f.name for f in files] == ["newsarchive-r1-00001.warc.gz"]
    assert not list(tmp_path.glob("*.open"))
    path = files[0]
    got = list(records(path))
    assert [r.rec_type for r, _ in got] == ["warcinfo", "response", "request", "metadata"]
    response, body = got[1]
    assert body == HTML
    assert response.rec_headers.get_header("WARC-Record-ID") == loc.record_id
    assert response.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    cookies = [v for k, v in response.http_headers.headers if k.lower() == "set-cookie"]
    assert cookies == ["a=1; Path=/", "b=2; Path=/"]
    assert response.http_headers.get_header("Content-Length") == str(len(HTML))
    assert response.http_headers.statusline == "200 OK"
    request = got[2][0]
    assert request.rec_headers.get_header("WARC-Concurrent-To") == loc.record_id
    assert request.http_headers.protocol == "GET"
    meta_headers = got[3][0].rec_headers
    assert meta_headers.get_header("WARC-Refers-To") == loc.record_id
    target = meta_headers.get_header("WARC-Target-URI")
    assert target == "metadata://newsarchive/www.rferl.org/a/x/1234567.html"
    # Not under the page's index key (SURT drops the scheme): pywb cannot serve it as the page.
    assert surt(target) != surt("https://www.rferl.org/a/x/1234567.html")
    assert meta_headers.get_header("WARC-Refers-To-Target-URI") == (
        "https://www.rferl.org/a/x/1234567.html"
    )
    assert meta.record_type == "metadata"
    # Seeking to the provenance offset reads exactly that record.
    with open(path, "rb") as fh:
        fh.seek(loc.offset)
        chunk = fh.read(loc.length)
    record = next(iter(ArchiveIterator(__import__("io").BytesIO(chunk))))
    assert record.rec_headers.get_header("WARC-Record-ID") == loc.record_id
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_gzip_payload_is_stored_encoded_and_digest_matches(tmp_path):
    encoded = gzip.compress(HTML)
    writer = RotatingWarcWriter(WarcWriterConfig(directory=tmp_path, run_id="r2"))
    writer.write_exchange(
        exchange(
            payload=encoded,
            headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
            was_chunked=True,
        )
    )
    path = writer.close()[0]
    response = next(r for r, _ in records(path) if r.rec_type == "response")
    assert response.http_headers.get_header("Content-Encoding") == "gzip"
    assert response.http_headers.get_header("X-Crawler-Transfer-Encoding") == "chunked"
    assert response.http_headers.get_header("Transfer-Encoding") is None
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                assert record.raw_stream.read() == encoded
                # content_stream() decodes Content-Encoding, as replay tools do.
    assert next(b for r, b in records(path) if r.rec_type == "response") == HTML
    assert warcio_check(path).returncode == 0


def test_identical_payload_becomes_revisit(tmp_path):
    writer = RotatingWarcWriter(WarcWriterConfig(directory=tmp_path, run_id="r3"))
    first = writer.write_exchange(exchange(url="https://www.rferl.org/robots.txt", payload=b"x"))
    second = writer.write_exchange(exchange(url="https://www.rferl.org/robots.txt", payload=b"x"))
    path = writer.close()[0]
    assert second.record_type == "revisit"
    revisit = next(r for r, _ in records(path) if r.rec_type == "revisit")
    assert revisit.rec_headers.get_header("WARC-Refers-To") == first.record_id
    assert revisit.rec_headers.get_header("WARC-Refers-To-Target-URI") == (
        "https://www.rferl.org/robots.txt"
    )
    assert "identical-payload-digest" in revisit.rec_headers.get_header("WARC-Profile")
    assert warcio_check(path).returncode == 0


def test_rotation_at_max_size(tmp_path):
    writer = RotatingWarcWriter(
        WarcWriterConfig(directory=tmp_path, run_id="r4", max_size=2000, dedupe=False)
    )
    for n in range(6):
        writer.write_exchange(
            exchange(
                url=f"https://www.rferl.org/a/{n}/100000{n}.html", payload=bytes(range(256)) * 8
            )
        )
    files = writer.close()
    assert len(files) >= 3
    assert [f.name for f in files] == sorted(f.name for f in files)
    for f in files:
        kinds = [r.rec_type for r, _ in records(f)]
        assert kinds[0] == "warcinfo"
        assert warcio_check(f).returncode == 0


def test_unsafe_prefix_and_run_id_do_not_escape_the_folder(tmp_path):
    writer = RotatingWarcWriter(
        WarcWriterConfig(directory=tmp_path / "out", prefix="../../evil", run_id="a/../b")
    )
    writer.write_exchange(exchange())
    files = writer.close()
    assert files[0].parent == tmp_path / "out"
    assert "/" not in files[0].name and ".." not in files[0].name


def test_gzip_level_sets_each_records_own_member(tmp_path):
    # Compressible but distinct text: level 1 must come out larger than level 9.
    words = " ".join(f"word{n % 97} {n * 7919 % 10007}" for n in range(20000))
    page = f"<html><body><p>{words}</p></body></html>".encode()
    sizes = {}
    for level in (1, 9):
        folder = tmp_path / str(level)
        writer = RotatingWarcWriter(
            WarcWriterConfig(directory=folder, run_id="r", gzip_level=level)
        )
        loc = writer.write_exchange(exchange(payload=page))
        (path,) = writer.close()
        sizes[level] = path.stat().st_size
        check = warcio_check(path)
        assert check.returncode == 0, check.stdout + check.stderr
        # Every record is one gzip member a plain gzip reader inflates on its own.
        with path.open("rb") as fh:
            fh.seek(loc.offset)
            member = fh.read(loc.length)
        head = gzip.decompress(member).split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        assert head[0] == b"WARC/1.1" and b"WARC-Type: response" in head
        assert [body for r, body in records(path) if r.rec_type == "response"] == [page]
    assert sizes[1] > sizes[9]


def test_gzip_level_out_of_range_names_the_setting(tmp_path):
    with pytest.raises(ValueError, match="NEWSARCHIVE_WARC_GZIP_LEVEL"):
        RotatingWarcWriter(WarcWriterConfig(directory=tmp_path, run_id="r", gzip_level=0))
    assert not list(tmp_path.iterdir())


def test_the_middleware_reads_the_gzip_level_setting():
    from scrapy.settings import Settings

    from newsarchive import default_settings
    from newsarchive.downloadermiddlewares.warc import WarcMiddlewareConfig

    assert WarcMiddlewareConfig.from_settings(Settings()).gzip_level == 5
    assert WarcWriterConfig(Path(".")).gzip_level == default_settings.NEWSARCHIVE_WARC_GZIP_LEVEL
    chosen = Settings({"NEWSARCHIVE_WARC_GZIP_LEVEL": "9"})
    assert WarcMiddlewareConfig.from_settings(chosen).gzip_level == 9
