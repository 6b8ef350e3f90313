"""The CDXJ index of a real gzip + chunked crawl: complete, sorted, and every line resolves."""

from __future__ import annotations

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
