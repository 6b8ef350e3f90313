"""The CDXJ index of a real gzip + chunked crawl: complete, sorted, and every line resolves."""

from __future__ import annotations

import base64
import gc
import hashlib
import os
import sys
import uuid
import warnings

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.cdxj import INDEX_PATH, parse_line, read_cdxj, write_cdxj
from newsarchive.archive.check import read_record_at
from tests.archive_crawl import gzip_chunked_crawl


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return gzip_chunked_crawl(tmp_path_factory)


@pytest.fixture(scope="module")
def index(crawl):
    return list(read_cdxj(crawl.folder / INDEX_PATH))


def test_one_line_per_response_and_revisit_and_none_for_metadata(crawl, index):
    kinds = {}
    for path in crawl.warcs:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                kinds[record.rec_headers.get_header("WARC-Record-ID")] = record.rec_type
    indexed = sorted(e.record_id for e in index)
    assert indexed == sorted(k for k, t in kinds.items() if t in ("response", "revisit"))
    assert "metadata" in kinds.values()
    revisits = [e for e in index if kinds[e.record_id] == "revisit"]
    assert revisits and all(e.mime == "warc/revisit" for e in revisits)


def test_lines_are_sorted_by_urlkey_and_time(crawl):
    lines = (crawl.folder / INDEX_PATH).read_text("utf-8").splitlines()
    keys = [line.split(" ", 2)[:2] for line in lines]
    assert keys == sorted(keys)
    assert keys[0][0].startswith("com,radiofarda)/")


def test_every_line_points_at_its_record(crawl, index):
    for entry in index:
        found = read_record_at(crawl.folder / entry.filename, entry.offset)
        assert found["record_id"] == entry.record_id
        assert found["url"] == entry.url
        assert found["payload_digest"] == entry.digest


def test_items_resolve_through_the_index(crawl, index):
    by_location = {(e.filename, e.offset): e for e in index}
    for item in crawl.items:
        ref = item["warc"]
        entry = by_location[(ref["filename"], ref["offset"])]
        assert (entry.record_id, entry.length, entry.url) == (
            ref["record_id"],
            ref["length"],
            item["url"],
        )


def test_rebuilding_gives_the_same_index(crawl, tmp_path):
    lines = write_cdxj(crawl.warcs, tmp_path / "again.cdxj")
    assert lines == len((crawl.folder / INDEX_PATH).read_text("utf-8").splitlines())
    assert (tmp_path / "again.cdxj").read_bytes() == (crawl.folder / INDEX_PATH).read_bytes()


def test_no_warc_gives_an_empty_index(tmp_path):
    assert write_cdxj([], tmp_path / "indexes" / "index.cdxj") == 0
    assert (tmp_path / "indexes" / "index.cdxj").read_text() == ""


@pytest.mark.parametrize("line", ["garbage", 'org,x)/ 2026 {"url": "u"}', "a b {not json"])
def test_malformed_lines_are_rejected(line):
    with pytest.raises(ValueError):
        parse_line(line)


def _response_without_payload_digest(url: str, body: bytes) -> bytes:
    """A WARC response record as some tools write it: no ``WARC-Payload-Digest`` header."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
    block = http + body
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\nWARC-Target-URI: {url}\r\n"
        "WARC-Date: 2026-11-28T09:48:24Z\r\nContent-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def test_a_missing_payload_digest_is_computed_and_its_temporary_files_closed(tmp_path, monkeypatch):
    """cdxj-indexer computes the digest in temporary files it never closes; we close them."""
    bodies = {f"https://example.org/{n}": os.urandom(700_000) for n in range(2)}  # > spool size
    warc = tmp_path / "foreign.warc"
    warc.write_bytes(b"".join(_response_without_payload_digest(u, b) for u, b in bodies.items()))
    unclosed = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: unclosed.append(info.exc_value))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        assert write_cdxj([warc], tmp_path / "index.cdxj") == 2
        gc.collect()
    assert unclosed == []
    lines = list(read_cdxj(tmp_path / "index.cdxj"))
    expected = {
        u: "sha1:" + base64.b32encode(hashlib.sha1(b).digest()).decode() for u, b in bodies.items()
    }
    assert {e.url: e.digest for e in lines} == expected
    with warc.open("rb") as fh:  # offsets and lengths still point at whole records
        for entry in lines:
            fh.seek(entry.offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Target-URI") == entry.url
