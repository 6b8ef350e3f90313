"""The close-of-run self-check and ``scrapy selfcheck``, on a real crawl and on damaged copies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive import addon
from newsarchive.archive.check import REPORT_FILE, SelfCheckOptions, selfcheck_run, wacz_path
from newsarchive.extensions.selfcheck import SelfCheckExtension
from newsarchive.runstatus import failure_reasons
from tests.archive_crawl import copy_run, gzip_chunked_crawl
from tests.crawl_helpers import REPO


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return gzip_chunked_crawl(tmp_path_factory)


def scrapy_selfcheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "selfcheck", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def flip_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


# -- the crawl's own self-check ---------------------------------------------------------------
def test_the_crawl_passed_its_self_check(crawl):
    report = json.loads((crawl.folder / REPORT_FILE).read_text("utf-8"))
    assert report["passed"] is True, report["problems"]
    assert report["items"] == report["items_resolved"] == 14
    assert report["wacz_pages"] == 14  # the pages the package lists, one per item
    assert report["warcs"] == len(crawl.warcs) == 1
    assert report["records"] > 90
    assert report["seconds"] < 5, "the self-check must stay well under 5 s on the sample site"
    assert crawl.stats["newsarchive/selfcheck/status"] == "passed"
    assert crawl.stats["newsarchive/selfcheck/items_resolved"] == 14
    assert failure_reasons(crawl.stats) == []
    assert wacz_path(crawl.folder).exists()


def test_the_summary_has_one_self_check_line(crawl):
    lines = [line for line in crawl.stdout.splitlines() if "self-check:" in line]
    assert len(lines) == 1
    assert "passed: 1 WARC(s)" in lines[0] and "14/14 items resolved" in lines[0]
    assert "valid (14 pages)" in lines[0]


def test_the_command_passes_on_the_crawl(crawl):
    out = scrapy_selfcheck(str(crawl.folder))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "self-check passed" in out.stdout


# -- damaged copies ------------------------------------------------------------------------------
def test_a_record_without_target_uri_is_reported_not_a_crash(crawl, tmp_path):
    """A flipped byte can hit a record's WARC-Target-URI line; warcio then raises
    AttributeError on the missing URI. The self-check reports the damaged file (the command
    once crashed with a traceback: found by a flip at an unlucky offset of a real run)."""
    folder = copy_run(crawl, tmp_path)
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"
    headers = (
        "WARC/1.1\r\nWARC-Type: response\r\n"
        "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
        "WARC-Date: 2025-01-01T00:00:00Z\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    ).encode()
    broken = folder / "damaged.warc"
    broken.write_bytes(headers + http + b"\r\n\r\n")
    report = selfcheck_run(folder, SelfCheckOptions(check=True, rebuild=True))
    assert not report.passed
    assert any("damaged.warc" in p or "index" in p for p in report.problems), report.problems
    out = scrapy_selfcheck("--rebuild", str(folder))
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "self-check FAILED" in out.stdout


@pytest.mark.parametrize("from_end", [1, 5, 8])  # ISIZE, CRC32 of the last gzip member
def test_a_damaged_gzip_trailer_fails_the_check(crawl, tmp_path, from_end):
    """warcio only prints this damage and its digests still match; the check must fail."""
    folder = copy_run(crawl, tmp_path)
    warc = folder / crawl.warcs[0].name
    flip_byte(warc, warc.stat().st_size - from_end)
    report = selfcheck_run(folder, SelfCheckOptions(check=True))
    assert not report.passed
    assert any(warc.name in p and "gzip member" in p for p in report.problems), report.problems


def test_a_flipped_byte_fails_the_command(crawl, tmp_path):
    folder = copy_run(crawl, tmp_path)
    warc = folder / crawl.warcs[0].name
    flip_byte(warc, warc.stat().st_size // 2)
    out = scrapy_selfcheck(str(folder))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "self-check FAILED" in out.stdout
    assert warc.name in out.stdout
    report = json.loads((folder / REPORT_FILE).read_text("utf-8"))
    assert not report["passed"]
    # The existing WACZ still holds the intact WARC: its hashes no longer match the folder,
    # but the WACZ itself stays valid; the WARC check is what must catch this.
    assert any(warc.name in p for p in report["problems"])


def test_a_truncated_warc_fails_with_a_clear_message(crawl, tmp_path):
    folder = copy_run(crawl, tmp_path)
    warc = folder / crawl.warcs[0].name
    data = warc.read_bytes()
    warc.write_bytes(data[: len(data) - 500])
    report = selfcheck_run(folder, SelfCheckOptions())
    assert not report.passed
    assert any(warc.name in p and "truncated" in p for p in report.problems), report.problems
    # warcio check itself exits 0 on this file ("digest present but not checked"); we do not.
    assert report.summary_line().startswith("FAILED: ")


def test_wrong_provenance_fails(crawl, tmp_path):
    folder = copy_run(crawl, tmp_path)
    items = [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]
    items[0]["warc"]["offset"] += 1
    items[1]["warc"]["record_id"] = "<urn:uuid:00000000-0000-0000-0000-000000000000>"
    (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    report = selfcheck_run(folder, SelfCheckOptions(build_wacz=False))
    assert report.items_resolved == 12
    assert len([p for p in report.problems if p.startswith("item ")]) == 2, report.problems


def test_a_tampered_wacz_fails(crawl, tmp_path):
    folder = copy_run(crawl, tmp_path)
    wacz = wacz_path(folder)
    data = bytearray(wacz.read_bytes())
    at = data.find(b"WARC/1.1") + 40  # inside the stored WARC member's bytes
    data[at] ^= 0xFF
    wacz.write_bytes(bytes(data))
    out = scrapy_selfcheck(str(folder))
    assert out.returncode == 1
    assert wacz.name in out.stdout
    out = scrapy_selfcheck("--rebuild", str(folder))
    assert out.returncode == 0, out.stdout


def test_a_leftover_open_warc_fails(crawl, tmp_path):
    folder = copy_run(crawl, tmp_path)
    (folder / "newsarchive-chunked-00002.warc.gz.open").write_bytes(b"")
    report = selfcheck_run(folder, SelfCheckOptions(build_wacz=False))
    assert any("still open" in p for p in report.problems)


def test_a_run_without_any_warc_has_nothing_to_fail(tmp_path):
    folder = tmp_path / "rferl" / "empty"
    folder.mkdir(parents=True)
    report = selfcheck_run(folder, SelfCheckOptions())
    assert report.passed and report.warcs == 0 and report.wacz is None


def test_command_usage_errors(tmp_path):
    assert scrapy_selfcheck().returncode != 0
    out = scrapy_selfcheck(str(tmp_path / "missing"))
    assert out.returncode == 1 and "not a folder" in out.stdout


# -- the extension -------------------------------------------------------------------------------
def test_extension_marks_the_run_failed(crawl, tmp_path):
    folder = copy_run(crawl, tmp_path)
    flip_byte(folder / crawl.warcs[0].name, 5000)
    crawler = get_crawler(
        settings_dict={"NEWSARCHIVE_OUTPUT": str(tmp_path), "NEWSARCHIVE_RUN_ID": folder.name}
    )
    crawler.stats.open_spider()
    extension = SelfCheckExtension.from_crawler(crawler)
    extension.folder = folder
    extension.engine_stopped()
    stats = crawler.stats.get_stats()
    assert stats["newsarchive/selfcheck/status"] == "failed"
    assert stats["newsarchive/selfcheck/summary"].startswith("FAILED: ")
    assert failure_reasons(stats) == ["selfcheck"]


@pytest.mark.parametrize(
    "settings",
    [
        {"NEWSARCHIVE_WARC_ENABLED": False},
        {
            "NEWSARCHIVE_CDXJ_ENABLED": False,
            "NEWSARCHIVE_WACZ_ENABLED": False,
            "NEWSARCHIVE_SELFCHECK_ENABLED": False,
        },
    ],
)
def test_disabled_is_not_configured(settings):
    with pytest.raises(NotConfigured):
        SelfCheckExtension.from_crawler(get_crawler(settings_dict=settings))


def test_each_switch_is_honoured(crawl, tmp_path):
    folder = copy_run(crawl, tmp_path)
    (folder / "indexes" / "index.cdxj").unlink()
    wacz_path(folder).unlink()
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_CDXJ_ENABLED": False})
    extension = SelfCheckExtension.from_crawler(crawler)
    assert not extension.config.options.build_cdxj and extension.config.options.build_wacz
    report = selfcheck_run(folder, extension.config.options)
    assert report.passed, report.problems
    assert not (folder / "indexes" / "index.cdxj").exists()
    assert wacz_path(folder).exists()  # built with a throwaway index
    assert not list(folder.glob(".*for-wacz"))


def test_runs_before_the_summary():
    settings = {"EXTENSIONS": {}, "DOWNLOADER_MIDDLEWARES": {}, "ITEM_PIPELINES": {}}
    from scrapy.settings import Settings

    s = Settings(settings)
    addon.NewsarchiveAddon().update_settings(s)
    extensions = s.getdict("EXTENSIONS")
    selfcheck = extensions["newsarchive.extensions.selfcheck.SelfCheckExtension"]
    assert selfcheck < extensions["newsarchive.extensions.runfolder.RunFolderExtension"]


# -- content-encoded payloads: checked as stored, never decoded -------------------------------
#: Real payloads (read in place from the corpora): brotli, and decompression bombs that inflate
#: to 11.5 MB each. (content-encoding, corpus file)
ENCODED = [
    ("br", "bomb-br.bin"),
    ("br", "html-br.bin"),
    ("gzip", "bomb-gzip.bin"),
    ("deflate", "bomb-deflate.bin"),
    ("zstd", "bomb-zstd.bin"),
]


def _encoded_run(folder: Path, corpora: Path) -> list[bytes]:
    """A run folder whose WARC holds one response per encoded payload, as our writer stores it."""
    from newsarchive.archive.records import HttpExchange
    from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig

    writer = RotatingWarcWriter(WarcWriterConfig(directory=folder, run_id="encoded"))
    payloads = []
    for encoding, name in ENCODED:
        payload = (corpora / "compression-edge-cases" / name).read_bytes()
        payloads.append(payload)
        writer.write_exchange(
            HttpExchange(
                url=f"https://www.rferl.org/encoded/{name}",
                method="GET",
                request_headers=[("Host", "www.rferl.org")],
                status=200,
                response_headers=[
                    ("Content-Type", "text/html"),
                    ("Content-Encoding", encoding),
                    ("Content-Length", str(len(payload))),
                ],
                payload=payload,
            )
        )
    writer.close()
    return payloads


def test_encoded_payloads_are_verified_as_stored_never_decoded(tmp_path, corpora):
    from newsarchive.archive.check import check_warc
    from tests.memory import traced_peak

    folder = tmp_path / "rferl" / "encoded"
    _encoded_run(folder, corpora)
    (warc,) = folder.glob("*.warc.gz")
    with traced_peak() as held:
        records, problems = check_warc(warc)  # warcio would raise AttributeError decoding br
    peak = held.bytes
    assert problems == []
    assert records == 1 + 2 * len(ENCODED)  # warcinfo, then response + request each
    assert peak < 2 * 1024 * 1024, f"{peak:,} bytes held while checking 60 KB of payloads"
    report = selfcheck_run(folder, SelfCheckOptions(software="test"))
    assert report.passed, report.problems
    assert report.cdxj_lines == len(ENCODED)


def test_a_damaged_br_payload_fails_its_digest(tmp_path, corpora):
    """The digest really is checked over the stored br bytes (uncompressed copy, one byte off)."""
    import gzip

    from newsarchive.archive.check import check_warc

    folder = tmp_path / "rferl" / "encoded"
    payloads = _encoded_run(folder, corpora)
    (warc,) = folder.glob("*.warc.gz")
    plain = tmp_path / "plain.warc"
    plain.write_bytes(gzip.decompress(warc.read_bytes()))
    assert check_warc(plain) == (1 + 2 * len(ENCODED), [])
    flip_byte(plain, plain.read_bytes().index(payloads[1]) + 100)  # inside html-br.bin
    _, problems = check_warc(plain)
    assert len(problems) == 2, problems  # the block digest and the payload digest
    assert all("digest failed" in problem for problem in problems), problems


def _members(path: Path) -> list[bytes]:
    """The WARC's gzip members, one per record, as warcio's offsets and lengths cut them."""
    from warcio.archiveiterator import ArchiveIterator

    data = path.read_bytes()
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        cuts = [(it.get_record_offset(), it.get_record_length()) for _ in it]
    return [data[offset : offset + length] for offset, length in cuts]


def test_one_read_indexes_and_checks_as_the_two_tools_do(crawl, tmp_path):
    """The close of a run indexes and checks each WARC in one read: the index is
    cdxj-indexer's byte for byte, and a payload changed after writing (its member re-gzipped,
    so only the digests can tell) is found with the same words as ``check_warc``."""
    import gzip

    from newsarchive.archive.cdxj import write_cdxj
    from newsarchive.archive.check import check_warc, index_and_check

    folder = copy_run(crawl, tmp_path)
    warc = folder / crawl.warcs[0].name
    members = _members(warc)
    changed = next(
        n for n, m in enumerate(members) if b"WARC-Type: response" in gzip.decompress(m)[:400]
    )
    record = gzip.decompress(members[changed])
    assert record.endswith(b"\r\n\r\n") and len(record) > 10
    at = len(record) - 5  # the payload's last byte: same length, other digest
    members[changed] = gzip.compress(record[:at] + bytes([record[at] ^ 0x01]) + record[at + 1 :])
    warc.write_bytes(b"".join(members))

    lines, records, problems = index_and_check([warc], tmp_path / "one-read.cdxj")
    alone = write_cdxj([warc], tmp_path / "alone.cdxj")
    assert lines == alone
    assert (tmp_path / "one-read.cdxj").read_bytes() == (tmp_path / "alone.cdxj").read_bytes()
    assert (records, problems) == check_warc(warc)
    assert records == len(members)
    assert len(problems) == 2 and all("digest" in p.lower() for p in problems), problems
    report = selfcheck_run(folder, SelfCheckOptions(check=True, rebuild=True))
    assert not report.passed and report.records == len(members)
    assert report.problems[: len(problems)] == problems


@pytest.mark.parametrize("damage", ["cut-trailer", "cut-member", "stray-byte"])
def test_one_read_finds_the_gzip_damage_warcio_reads_past(crawl, tmp_path, damage):
    """A file ending inside a gzip member's trailer, inside a member that holds no record yet,
    or with a stray byte after the last member: warcio reads every record and its digests
    match; the one read still fails the file, as a separate gzip read would."""
    from newsarchive.archive.check import check_warc, gzip_damage, index_and_check

    folder = copy_run(crawl, tmp_path)
    warc = folder / crawl.warcs[0].name
    data = warc.read_bytes()
    last = len(_members(warc)[-1])
    damaged = {
        "cut-trailer": data[:-4],
        "cut-member": data[: -(last - 10)],  # the gzip header of the last member only
        "stray-byte": data + b"\n",
    }[damage]
    warc.write_bytes(damaged)
    expected = f"{warc.name}: {gzip_damage(warc)}"
    assert "truncated" in expected
    _lines, _records, problems = index_and_check([warc], tmp_path / "index.cdxj")
    assert problems[-1] == expected, problems
    assert check_warc(warc)[1][-1] == expected
