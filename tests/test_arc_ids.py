"""Stable record ids for records without a ``WARC-Record-ID``: every ARC record, and WARC records
missing the header. warcio makes up a random id per ARC record on every read; the reader derives
one instead (:func:`newsarchive.archive.reader.derived_record_id`). The ARC files are the shared
corpus's, found by their ``filedesc://`` header and read in place."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.arc import RECORD_ID_NAMESPACE, derived_record_id
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.reader import is_arc, iter_records, read_record, sources_of
from tests.crawl_helpers import REPO

#: ARC files of the corpus that read to their end (SOURCE.md: "ARC v1"; the reader's table in
#: tests/test_reader.py). Those missing from this copy of the corpus are skipped.
READABLE_ARCS = (
    "jwat/arc/1-1-20110922131213-00000-svc-VirtualBox.arc",
    "jwat/arc/small_BNF.arc",
    "jwat/arc/test-arc-1.0-dashed-fields.arc",
    "warcio/example.arc",
    "warcio/example.arc.gz",
    "warcio/example-space-in-url.arc",
)
#: The real Heritrix ARC: 101 responses, 3 of them articles to reextract.
HERITRIX_ARC = "jwat/arc/1-1-20110922131213-00000-svc-VirtualBox.arc"
#: WARC files whose records all carry a WARC-Record-ID (gzip per record, uncompressed, WARC/0.17).
WARCS_WITH_IDS = (
    "warcio/example.warc.gz",
    "resiliparse/warcfile.warc",
    "jwat/warc/IAH-20080430204825-00000-blackbook.warc.gz",
)


@pytest.fixture(scope="module")
def arc_files(warc_corpus) -> list[Path]:
    """The readable ARC files of the corpus (at least the Heritrix and BnF ones)."""
    found = [warc_corpus / name for name in READABLE_ARCS if (warc_corpus / name).exists()]
    assert warc_corpus / HERITRIX_ARC in found and len(found) >= 4
    return found


def _ids(path: Path, **kwargs) -> list[tuple[int, str | None]]:
    return [(r.offset, r.record_id) for r in iter_records(path, **kwargs)]


def test_the_arc_files_are_the_ones_with_a_filedesc_header(warc_corpus, arc_files):
    """Which corpus files are ARC is read from the files, not their names: every readable ARC
    named above is one, and every ``.arc*`` file of the corpus is one."""
    for path in arc_files:
        assert is_arc(sources_of(path)[0]), path
    for path in warc_corpus.rglob("*.arc*"):
        assert is_arc(sources_of(path)[0]), path
    assert not is_arc(sources_of(warc_corpus / "warcio" / "example.warc.gz")[0])


def test_a_damaged_warc_or_any_other_file_is_not_arc(warc_corpus, tmp_path):
    """Only an ARC header or URL line makes a file ARC (ARC ids and ARC length tolerance)."""
    damaged = tmp_path / "damaged.warc"
    data = (warc_corpus / "warcio" / "example.warc").read_bytes()
    damaged.write_bytes(data.replace(b"WARC/1.0", b"WXRC/1.0", 1))
    text = tmp_path / "notes.txt"
    text.write_text("http://a.example/ is down\n20240501120000 again\n", "utf-8")
    for path in (damaged, text, warc_corpus / "jwat" / "gzip" / "sample.txt.gz"):
        if path.exists():
            assert not is_arc(sources_of(path)[0]), path


def test_arc_ids_are_the_same_on_every_read(arc_files):
    for path in arc_files:
        first = _ids(path)
        assert first == _ids(path), path
        # Reading without payloads, and reading one record at its offset, name it the same.
        assert first == _ids(path, payloads=False), path
        source = sources_of(path)[0]
        assert [(o, read_record(source, o).record_id) for o, _ in first] == first, path


def test_arc_ids_are_unique_derived_uuids(arc_files):
    seen: set[str] = set()
    for path in arc_files:
        records = list(iter_records(path, payloads=False))
        ids = [r.record_id for r in records]
        assert len(set(ids)) == len(ids), path
        for record in records:
            value = uuid.UUID(record.record_id.removeprefix("<urn:uuid:").removesuffix(">"))
            assert value.version == 5
            assert record.record_id == derived_record_id(
                path.name, record.offset, record.url, record.date
            )
        assert not seen & set(ids), path  # another file name, other ids
        seen |= set(ids)
    assert len(seen) >= 100  # the Heritrix ARC alone has 102 records


def test_arc_ids_are_not_warcios_random_ones(warc_corpus):
    """What the fix is about: warcio's own ids for the same ARC differ from read to read."""
    path = warc_corpus / "warcio" / "example.arc"

    def warcio_ids() -> list[str]:
        with open(path, "rb") as fh:
            records = ArchiveIterator(fh, arc2warc=True)
            return [r.rec_headers.get_header("WARC-Record-ID") for r in records]

    assert warcio_ids() != warcio_ids()
    assert not set(warcio_ids()) & {i for _, i in _ids(path)}


def test_warc_records_keep_their_own_ids(warc_corpus):
    for name in WARCS_WITH_IDS:
        path = warc_corpus / name
        if not path.exists():
            continue
        with open(path, "rb") as fh:
            want = [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(fh)]
        got = [r.record_id for r in iter_records(path, payloads=False)]
        assert got == want and all(want), name


def _warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    head = "".join(f"{n}: {v}\r\n" for n, v in [*headers, ("Content-Length", str(len(block)))])
    return b"WARC/1.0\r\n" + head.encode() + b"\r\n" + block + b"\r\n\r\n"


def test_a_warc_record_without_an_id_gets_a_stable_one(tmp_path):
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"
    kind = ("Content-Type", "application/http; msgtype=response")
    data = _warc_record(
        [
            ("WARC-Type", "response"),
            ("WARC-Record-ID", "<urn:uuid:kept>"),
            ("WARC-Target-URI", "http://kept.example/"),
            kind,
        ],
        http,
    ) + _warc_record(
        [
            ("WARC-Type", "response"),
            ("WARC-Target-URI", "http://a.example/"),
            ("WARC-Date", "2024-05-01T12:00:00Z"),
            kind,
        ],
        http,
    )
    for folder in ("one", "two"):  # the same file name in two folders: the same ids
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "no-id.warc").write_bytes(data)
    kept, missing = list(iter_records(tmp_path / "one" / "no-id.warc"))
    assert kept.record_id == "<urn:uuid:kept>"
    assert missing.record_id == derived_record_id(
        "no-id.warc", missing.offset, "http://a.example/", "2024-05-01T12:00:00Z"
    )
    assert _ids(tmp_path / "one" / "no-id.warc") == _ids(tmp_path / "two" / "no-id.warc")
    # A resolved lookup through the index names the record the same way.
    found = ArchiveIndex([tmp_path / "one" / "no-id.warc"]).lookup("http://a.example/")
    assert found is not None and found.record_id == missing.record_id


def test_the_namespace_is_the_documented_one():
    """Changing it would change every derived id already written into items."""
    assert uuid.uuid5(uuid.NAMESPACE_URL, "newsarchive:derived-record-id") == RECORD_ID_NAMESPACE
    key = "\n".join(("x.arc", "0", "http://a.example/", ""))
    want = uuid.uuid5(RECORD_ID_NAMESPACE, key)
    assert derived_record_id("x.arc", 0, "http://a.example/", None) == f"<urn:uuid:{want}>"


def test_an_arc_without_its_filedesc_header_gets_derived_ids_too(tmp_path):
    """warcio reads ARC records whatever the first record is; their ids are random all the
    same, so a header-less ARC (jwat has one, broken further on) is treated as ARC."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"
    line = b"http://a.example/x y 192.0.2.1 20240501120000 text/html %d\n" % len(http)
    path = tmp_path / "headerless.arc"
    path.write_bytes(line + http + b"\n" + line.replace(b"a.example", b"b.example") + http + b"\n")
    assert is_arc(sources_of(path)[0])
    first = list(iter_records(path))
    assert [r.url for r in first] == ["http://a.example/x%20y", "http://b.example/x%20y"]
    assert [(r.offset, r.record_id) for r in first] == _ids(path)
    assert first[0].record_id == derived_record_id(
        "headerless.arc", 0, "http://a.example/x%20y", first[0].date
    )


def _reextract(source: Path, output: Path) -> list[dict]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "reextract",
            str(source),
            "-O",
            str(output),
            "--workers",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in output.read_text("utf-8").splitlines() if line.strip()]


def test_reextract_of_an_arc_gives_the_same_record_ids_every_run(warc_corpus, tmp_path):
    path = warc_corpus / HERITRIX_ARC
    first = _reextract(path, tmp_path / "first.jsonl")
    second = _reextract(path, tmp_path / "second.jsonl")
    assert len(first) >= 3
    ids = [item["warc"]["record_id"] for item in first]
    assert ids == [item["warc"]["record_id"] for item in second]
    assert len(set(ids)) == len(ids) and all(ids)
    by_offset = dict(_ids(path, payloads=False))
    assert ids == [by_offset[item["warc"]["offset"]] for item in first]
