"""The WARC records of a real crawl say what happened on the wire (issue 3, section 1).

The sample site is crawled through a web double that gzips text bodies and sends every body
chunked; the records are read back with warcio and each rule is checked on every record it
applies to.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.records import fix_transfer_headers
from newsarchive.webdouble import WebDouble
from tests.archive_crawl import SITE, gzip_chunked_crawl
from tests.crawl_helpers import REPO, proxy_vars

SEED = "https://www.rferl.org/a/russian_foreign_minister_lavrov_to_syria_on_diplomatic_mission/24475926.html"


def read_records(warcs: list[Path]) -> list[dict]:
    """Every record with its headers and raw (still content-encoded) payload."""
    records = []
    for path in warcs:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                records.append(
                    {
                        "type": record.rec_type,
                        "warc": record.rec_headers,
                        "http": record.http_headers,
                        "payload": record.raw_stream.read(),
                    }
                )
    return records


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return gzip_chunked_crawl(tmp_path_factory)


@pytest.fixture(scope="module")
def records(crawl):
    return read_records(crawl.warcs)


@pytest.fixture(scope="module")
def responses(records):
    return [r for r in records if r["type"] == "response"]


def header_values(http, name: str) -> list[str]:
    return [v for n, v in http.headers if n.lower() == name.lower()]


def test_chunked_framing_is_renamed_and_length_is_the_stored_one(responses):
    # The double chunks everything except its own error pages (the 404 here).
    served = [r for r in responses if r["http"].get_statuscode() != "404"]
    assert len(served) >= 30
    for r in responses:
        url = r["warc"].get_header("WARC-Target-URI")
        assert header_values(r["http"], "Transfer-Encoding") == [], url
        renamed = header_values(r["http"], "X-Crawler-Transfer-Encoding")
        assert renamed == (["chunked"] if r in served else []), url
        assert header_values(r["http"], "Content-Length") == [str(len(r["payload"]))], url
        # No announced length differs from the stored one, so nothing kept under a new name.
        assert header_values(r["http"], "X-Crawler-Content-Length") == [], url


def test_payload_is_stored_before_decompression(responses):
    seed = next(r for r in responses if r["warc"].get_header("WARC-Target-URI") == SEED)
    assert header_values(seed["http"], "Content-Encoding") == ["gzip"]
    assert seed["payload"][:2] == b"\x1f\x8b"
    html = gzip.decompress(seed["payload"]).decode("utf-8")
    assert "Lavrov" in html
    gzipped = [r for r in responses if header_values(r["http"], "Content-Encoding") == ["gzip"]]
    assert len(gzipped) >= 20
    assert all(r["payload"][:2] == b"\x1f\x8b" for r in gzipped)


def test_repeated_headers_protocol_reason_and_ip(responses):
    for r in responses:
        url = r["warc"].get_header("WARC-Target-URI")
        assert len(header_values(r["http"], "Set-Cookie")) == 2, url
        assert r["http"].protocol == "HTTP/1.1", url
        assert r["warc"].get_header("WARC-IP-Address") == "127.0.0.1", url
    lines = {r["http"].statusline for r in responses}
    assert {"200 OK", "404 Not Found", "301 Moved Permanently"} <= lines


def test_request_records_point_at_their_response(records):
    ids = {r["warc"].get_header("WARC-Record-ID"): r for r in records}
    requests = [r for r in records if r["type"] == "request"]
    assert len(requests) == len([r for r in records if r["type"] in ("response", "revisit")])
    for req in requests:
        target = ids[req["warc"].get_header("WARC-Concurrent-To")]
        assert target["type"] in ("response", "revisit")
        url = req["warc"].get_header("WARC-Target-URI")
        assert target["warc"].get_header("WARC-Target-URI") == url
        assert req["http"].protocol == "GET"
        assert req["http"].statusline.startswith("/")
        assert req["http"].statusline.endswith(" HTTP/1.1")
        assert req["http"].get_header("Host") == url.split("/")[2]
        assert "newsarchive" in req["http"].get_header("User-Agent")
        assert "gzip" in req["http"].get_header("Accept-Encoding")


def test_digests_are_sha1_base32_and_verify(crawl, responses):
    for r in responses:
        expected = "sha1:" + base64.b32encode(hashlib.sha1(r["payload"]).digest()).decode()
        assert r["warc"].get_header("WARC-Payload-Digest") == expected
        assert r["warc"].get_header("WARC-Block-Digest").startswith("sha1:")
    out = subprocess.run(
        [str(Path(sys.executable).parent / "warcio"), "check", "-v", *map(str, crawl.warcs)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout
    assert out.stdout.count("digest pass") >= len(responses)
    assert "fail" not in out.stdout.lower()


def test_revisits_refer_to_an_archived_original(records):
    by_id = {r["warc"].get_header("WARC-Record-ID"): r for r in records}
    revisits = [r for r in records if r["type"] == "revisit"]
    # archive_crawl serves svoboda's sitemap index at two URLs: the second copy is a revisit.
    assert revisits, "no in-run revisit of the sitemap index listed twice"
    for rev in revisits:
        w = rev["warc"]
        assert w.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
        original = by_id[w.get_header("WARC-Refers-To")]
        assert original["type"] == "response"
        ow = original["warc"]
        assert w.get_header("WARC-Refers-To-Target-URI") == ow.get_header("WARC-Target-URI")
        assert w.get_header("WARC-Refers-To-Date") == ow.get_header("WARC-Date")
        assert w.get_header("WARC-Payload-Digest") == ow.get_header("WARC-Payload-Digest")
        assert rev["payload"] == b""


def test_each_article_has_a_metadata_record_with_its_item(crawl, records):
    metadata = {
        r["warc"].get_header("WARC-Refers-To"): r for r in records if r["type"] == "metadata"
    }
    assert len(crawl.items) == 14
    for item in crawl.items:
        record = metadata[item["warc"]["record_id"]]
        assert record["warc"].get_header("Content-Type") == "application/json"
        # Filed apart from the page (pywb would serve it as the page), linked to it by URL.
        assert record["warc"].get_header("WARC-Refers-To-Target-URI") == item["url"]
        assert record["warc"].get_header("WARC-Target-URI") == item["url"].replace(
            "https://", "metadata://newsarchive/", 1
        )
        stored = json.loads(record["payload"])
        for key in ("url", "article_id", "title", "text", "legal_notice", "fetched_at"):
            assert stored[key] == item[key], key


def test_unchunked_responses_keep_the_announced_length(tmp_path_factory):
    """Without chunking, the server's Content-Length is the stored length: nothing renamed."""
    crawl = gzip_chunked_crawl(tmp_path_factory, chunked=False)
    responses = [r for r in read_records(crawl.warcs) if r["type"] == "response"]
    for r in responses:
        url = r["warc"].get_header("WARC-Target-URI")
        assert header_values(r["http"], "Content-Length") == [str(len(r["payload"]))], url
        assert not [n for n, _ in r["http"].headers if n.lower().startswith("x-crawler-")], url


def test_a_differing_announced_length_is_kept_under_a_new_name():
    fixed = fix_transfer_headers([("Content-Length", "1234"), ("ETag", '"x"')], 0, False)
    assert ("X-Crawler-Content-Length", "1234") in fixed
    assert ("Content-Length", "0") in fixed


def test_request_line_keeps_the_query_string(tmp_path):
    """``scrapy fetch`` runs through the same add-on, so its exchange is archived too."""
    url = "https://www.rferl.org/?p=2&q=a%20b"
    with WebDouble(SITE, gzip=True, chunked=True) as double:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "fetch",
                "--nolog",
                "-s",
                f"NEWSARCHIVE_OUTPUT={tmp_path}",
                "-s",
                "NEWSARCHIVE_RUN_ID=fetch",
                "-s",
                "ROBOTSTXT_OBEY=False",
                url,
            ],
            cwd=REPO,
            env={**os.environ, **proxy_vars(double.proxy_url)},
            capture_output=True,
            check=False,
        )
    assert out.returncode == 0, out.stderr[-2000:]
    warcs = sorted(tmp_path.glob("*/fetch/*.warc.gz"))
    assert warcs, list(tmp_path.rglob("*"))
    requests = [r for r in read_records(warcs) if r["type"] == "request"]
    assert [r["http"].to_str().split("\r\n")[0] for r in requests] == ["GET /?p=2&q=a%20b HTTP/1.1"]


def test_the_handler_refuses_a_scrapy_it_does_not_know():
    """If Scrapy stops building its pool as 2.19 does, the crawl stops at start with a reason."""
    from twisted.web.client import HTTPConnectionPool

    from newsarchive.downloadhandlers.wireheaders import check_scrapy_internals

    with pytest.raises(RuntimeError, match="update newsarchive/downloadhandlers"):
        check_scrapy_internals(object())
    pool = HTTPConnectionPool.__new__(HTTPConnectionPool)  # default (Twisted's) factory
    with pytest.raises(RuntimeError):
        check_scrapy_internals(pool)
