"""The archive reader: our own WARCs round-trip, and every real third-party file reads or fails
with a clear :class:`ArchiveError` (the corpus is read in place, never copied)."""

from __future__ import annotations

import gzip
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.archive.reader import (
    ArchiveError,
    ArchiveIndex,
    archive_files,
    dechunk,
    entity_body,
    iter_records,
    iter_responses,
)
from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig

#: Third-party files that are malformed: the reader must refuse them with ArchiveError. Files
#: listed here but absent from the corpus copy are skipped; files not listed must either read
#: or raise ArchiveError (non-archive files such as LICENSE fall in that second case).
MALFORMED = {
    "jwat/arc/invalid-arcfile-record-then-garbage.arc": "not a valid WARC/ARC record",
    "jwat/arc/test-arc-1.0-invalid-fields.arc": "record length 'one'",
    "jwat/warc/invalid-warcfile-fields-empty.warc": "without WARC-Type",
    "jwat/warc/invalid-warcfile-fields-missing.warc": "without WARC-Type",
    "jwat/warc/invalid-warcfile-fields-invalidformat.warc": "record length 'very lengthy'",
    "jwat/warc/invalid-warcfile-lonely-revisit.warc": "unparseable record",
    "jwat/warc/invalid-warcfile-lonely-monkeys.warc": "record length",
    "jwat/warc/invalid-warcfile-record-then-garbage.warc": "record length 'coming!'",
    "resiliparse/clipped.warc.gz": "truncated",
    "resiliparse/warcfile.warc.lz4": "LZ4",
    "warcio.js/example-bad-length.warc": "Content-Length is wrong",
    "warcio/example-trunc.warc": "Content-Length is wrong",
    "warcio/example-wrong-chunks.warc.gz": "truncated",
    "warcio/bad.arc": "record length '-1'",
    "pywb/waczs/invalid_example_1.wacz": "",
    "jwat/gzip/invalid-magic.gz": "",
    "jwat/gzip/invalid-truncated.gz": "",
}
#: Valid files and the number of response + revisit records the reader must give.
VALID = {
    "jwarc/cc.warc.gz": 1,
    "jwat/arc/1-1-20110922131213-00000-svc-VirtualBox.arc": 101,
    "jwat/arc/small_BNF.arc": 5,
    "jwat/warc/IAH-20080430204825-00000-blackbook.warc.gz": 299,
    "jwat/warc/valid-warcfile-upper-lower-case.warc": 4,
    "resiliparse/warcfile.warc": 16,
    "resiliparse/warcfile.warc.gz": 16,
    "resiliparse/clueweb-quirk.warc.gz": 29,
    "warcio/example.warc": 2,
    "warcio/example.warc.gz": 2,
    "warcio/example.arc": 1,
    "warcio/example.arc.gz": 1,
    "warcio/example-bad-non-chunked.warc.gz": 2,  # whole-file gzip
    "warcio/example-iana.org-chunked.warc": 1,
    "warcio.js/redirect.warc": 1,
    "warcio.js/post-test-more.warc": 3,  # gzip despite its name
    "pywb/warcs/iana.warc.gz": 171,
    "pywb/warcs/dupes.warc.gz": 12,
    "pywb/waczs/valid_example_1.wacz": None,  # any number > 0
}


@pytest.fixture(scope="module")
def warc_corpus(corpora: Path) -> Path:
    folder = corpora / "warc"
    if not folder.is_dir():
        pytest.fail(f"{folder} missing: the reader is tested on the shared WARC corpus")
    return folder


def _outcome(path: Path) -> tuple[list, ArchiveError | None]:
    records: list = []
    try:
        for record in iter_records(path):
            records.append(record)
    except ArchiveError as exc:
        return records, exc
    return records, None


def test_every_corpus_file_reads_or_fails_clearly(warc_corpus):
    """No file makes the reader raise anything but ArchiveError; errors name file and offset."""
    files = sorted(p for p in warc_corpus.rglob("*") if p.is_file())
    assert len(files) > 50
    read = failed = 0
    for path in files:
        records, error = _outcome(path)
        if error is None:
            read += 1
            assert records, f"{path}: no record and no error"
        else:
            failed += 1
            assert str(path) in str(error) and error.offset is not None and error.offset >= 0
            assert "Traceback" not in str(error) and len(str(error)) < 400
    assert read >= 30 and failed >= 10


def test_malformed_files_give_archive_error(warc_corpus):
    present = {name: hint for name, hint in MALFORMED.items() if (warc_corpus / name).exists()}
    assert len(present) >= 10
    for name, hint in present.items():
        _, error = _outcome(warc_corpus / name)
        assert error is not None, f"{name} was read without error"
        assert hint in error.problem, f"{name}: {error}"


def test_valid_files_yield_their_responses(warc_corpus):
    present = {name: n for name, n in VALID.items() if (warc_corpus / name).exists()}
    assert len(present) >= 15
    for name, expected in present.items():
        responses = list(iter_responses([warc_corpus / name]))
        if expected is None:
            assert responses, name
        else:
            assert len(responses) == expected, name
        http = [r for r in responses if r.url.startswith("http") and r.payload is not None]
        assert all(r.status for r in http), name


def test_revisits_resolve_to_the_original_payload(warc_corpus):
    path = warc_corpus / "warcio" / "example.warc.gz"
    responses = list(iter_responses([path]))
    revisit = next(r for r in responses if r.rec_type == "revisit")
    original = next(r for r in responses if r.rec_type == "response")
    assert revisit.payload == original.payload and revisit.payload
    assert revisit.resolved_from == original.record_id
    assert revisit.header("Content-Encoding") == "gzip"
    assert b"Example Domain" in gzip.decompress(entity_body(revisit))


def test_chunked_body_is_dechunked(warc_corpus):
    (record,) = list(iter_responses([warc_corpus / "warcio" / "example-iana.org-chunked.warc"]))
    assert "chunked" in record.header("Transfer-Encoding").lower()
    body = entity_body(record)
    assert body != record.payload and body.rstrip().endswith(b"</html>")


def test_whole_file_gzip_reads_like_per_record(warc_corpus):
    whole = list(iter_responses([warc_corpus / "warcio" / "example-bad-non-chunked.warc.gz"]))
    per_record = list(iter_responses([warc_corpus / "warcio" / "example.warc.gz"]))
    assert [r.url for r in whole] == [r.url for r in per_record]
    assert [r.payload for r in whole] == [r.payload for r in per_record]


def test_dechunk_rejects_invalid_framing():
    assert dechunk(b"3\r\nabc\r\n0\r\n\r\n") == b"abc"
    assert dechunk(b"<html>not chunked</html>") is None
    assert dechunk(b"ff\r\nshort\r\n") is None


# -- our own WARCs, in every packaging -------------------------------------------------------------
def _write_run(folder: Path) -> Path:
    writer = RotatingWarcWriter(WarcWriterConfig(directory=folder, run_id="r1"))
    page = b"<html><body><h1>Hello</h1></body></html>"
    for url in ("https://example.org/a", "https://example.org/b"):
        writer.write_exchange(
            HttpExchange(
                url=url,
                method="GET",
                request_headers=[("Accept", "*/*")],
                status=200,
                response_headers=[("Content-Type", "text/html; charset=utf-8")],
                payload=page,
                fetched_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            )
        )
    (path,) = writer.close()
    return path


def test_run_folder_and_lookup(tmp_path):
    path = _write_run(tmp_path / "run")
    (tmp_path / "run" / "junk.warc.gz.open").write_bytes(b"half-written")
    assert archive_files([tmp_path / "run"]) == [path]
    index = ArchiveIndex([tmp_path / "run"])
    first = index.lookup("https://example.org/a")
    assert first.rec_type == "response" and first.status == 200
    second = index.lookup("https://example.org/b")
    assert second.rec_type == "revisit" and second.payload == first.payload
    assert second.resolved_from == first.record_id
    assert index.lookup("https://example.org/missing") is None
    assert "https://example.org/a#fragment" in index


def test_wacz_members_and_whole_file_gzip(tmp_path):
    warc = _write_run(tmp_path / "run")
    wacz = tmp_path / "run.wacz"
    with zipfile.ZipFile(wacz, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.write(warc, f"archive/{warc.name}")
        zf.writestr("datapackage.json", "{}")
    from_wacz = list(iter_responses([wacz]))
    assert [r.url for r in from_wacz] == ["https://example.org/a", "https://example.org/b"]
    assert from_wacz[0].source.filename == warc.name
    assert ArchiveIndex([wacz]).lookup("https://example.org/b").payload == from_wacz[0].payload

    whole = tmp_path / "whole.warc.gz"
    plain = gzip.decompress(warc.read_bytes())
    whole.write_bytes(gzip.compress(plain))
    assert [r.payload for r in iter_responses([whole])] == [r.payload for r in from_wacz]


def test_missing_and_non_archive_inputs(tmp_path):
    with pytest.raises(ArchiveError, match="no such file"):
        archive_files([tmp_path / "nope"])
    not_wacz = tmp_path / "x.wacz"
    with zipfile.ZipFile(not_wacz, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ArchiveError, match="not a WACZ"):
        list(iter_records(not_wacz))
    text = tmp_path / "notes.warc"
    text.write_text("hello\n")
    with pytest.raises(ArchiveError, match=str(text)):
        list(iter_records(text))
