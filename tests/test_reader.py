"""The archive reader: our own WARCs round-trip, and every real third-party file reads or fails
with a clear :class:`ArchiveError` (the corpus is read in place, never copied)."""

from __future__ import annotations

import gzip
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.archive.index import ArchiveIndex, iter_responses
from newsarchive.archive.reader import (
    ArchiveError,
    archive_files,
    dechunk,
    entity_body,
    iter_records,
)
from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig

#: What the reader must do with EVERY file of the shared WARC corpus, as its SOURCE.md describes
#: the file: ``int`` = read without error, giving that many response + revisit records (None: some);
#: ``str`` = refused with an ArchiveError whose problem contains it ("" for non-archive files).
#: SOURCE.md's "warcio result" says only whether warcio raised; where warcio reads a file whose
#: framing is broken (truncated record, wrong or non-numeric lengths), we refuse it, and where a
#: jwat "invalid" file breaks only WARC conformance rules (recommended fields, digests, segment
#: numbers), we read it: a reader is not a validator. Files of the full set that this copy lacks
#: are skipped; a file the table does not name fails the test.
CORPUS: dict[str, int | str | None] = {
    # licences and the description: not archives
    "SOURCE.md": "",
    "jwarc/LICENSE": "",
    "jwat/LICENSE-NOTE.txt": "",
    "resiliparse/LICENSE": "",
    "warcio/LICENSE": "",
    "warcio/NOTICE": "",
    "warcio.js/LICENSE": "",
    # jwarc
    "jwarc/cc.warc.gz": 1,
    "jwarc/gzip_extra_sl.warc.gz": 0,  # warcinfo only; gzip FEXTRA
    # jwat ARC
    "jwat/arc/1-1-20110922131213-00000-svc-VirtualBox.arc": 101,
    "jwat/arc/invalid-arcfile-record-then-garbage.arc": "not a valid WARC/ARC record",
    "jwat/arc/small_BNF.arc": 5,
    "jwat/arc/test-arc-1.0-dashed-fields.arc": 1,
    "jwat/arc/test-arc-1.0-invalid-fields.arc": "record length 'one'",
    # jwat gzip: generic gzip files, valid or not, none of them an archive
    "jwat/gzip/invalid-compression.gz": "",
    "jwat/gzip/invalid-entries.gz": "",
    "jwat/gzip/invalid-magic.gz": "",
    "jwat/gzip/invalid-truncated.gz": "",
    "jwat/gzip/sample.txt.gz": "",
    "jwat/gzip/three-files.gz": "",
    # jwat WARC
    "jwat/warc/IAH-20080430204825-00000-blackbook.warc.gz": 299,
    "jwat/warc/invalid-warcfile-contenttype-recommended.warc": 2,
    "jwat/warc/invalid-warcfile-contenttype-warcinfo-recommended.warc": 0,
    "jwat/warc/invalid-warcfile-digest-fields.warc": 4,
    "jwat/warc/invalid-warcfile-duplicate-fields.warc": 0,
    "jwat/warc/invalid-warcfile-encoding-headers.warc.gz": 3,
    "jwat/warc/invalid-warcfile-fields-empty.warc": "without WARC-Type",
    "jwat/warc/invalid-warcfile-fields-invalidformat.warc": "record length 'very lengthy'",
    "jwat/warc/invalid-warcfile-fields-missing.warc": "without WARC-Type",
    "jwat/warc/invalid-warcfile-lonely-continuation.warc": "record length ''",
    "jwat/warc/invalid-warcfile-lonely-monkeys.warc": "record length ''",
    "jwat/warc/invalid-warcfile-lonely-request-response-resource-conversion.warc": "unparseable",
    "jwat/warc/invalid-warcfile-lonely-revisit.warc": "unparseable record",
    "jwat/warc/invalid-warcfile-lonely-warcinfo-metadata.warc": "record length ''",
    "jwat/warc/invalid-warcfile-record-then-garbage.warc": "record length 'coming!'",
    "jwat/warc/invalid-warcfile-segment-number-continuation.warc": 0,
    "jwat/warc/invalid-warcfile-segment-number-response.warc": 2,
    "jwat/warc/valid-warcfile-contenttype-continuation.warc": 0,
    "jwat/warc/valid-warcfile-duplicate-concurrentto.warc": 0,
    "jwat/warc/valid-warcfile-fields-continuation.warc": 0,
    "jwat/warc/valid-warcfile-fields-metainfo.warc": 0,
    "jwat/warc/valid-warcfile-fields-warcinfo.warc": 0,
    "jwat/warc/valid-warcfile-non-warc-headers.warc": 0,
    "jwat/warc/valid-warcfile-upper-lower-case.warc": 4,
    "jwat/warc/valid-warcfile-utf8.warc": 0,
    # pywb (GPL test data; may be absent from this copy)
    "pywb/waczs/invalid_example_1.wacz": "",
    "pywb/waczs/valid_example_1.wacz": None,
    "pywb/warcs/bad.arc": "record length '-1'",
    "pywb/warcs/dupes.warc.gz": 12,
    "pywb/warcs/example-bad.warc.gz.bad": 3,  # whole-file gzip
    "pywb/warcs/example-extra.warc": 4,
    "pywb/warcs/example-url-agnostic-orig.warc.gz": 1,
    "pywb/warcs/example-url-agnostic-revisit.warc.gz": 1,
    "pywb/warcs/example-wget-1-14.warc.gz": 1,
    "pywb/warcs/example-wpull.warc.gz": 1,
    "pywb/warcs/example.arc": 1,
    "pywb/warcs/example.arc.gz": 1,
    "pywb/warcs/example.warc": 3,
    "pywb/warcs/example.warc.gz": 3,
    "pywb/warcs/example2.warc.gz": 1,
    "pywb/warcs/httpbin-resource.warc.gz": 0,
    "pywb/warcs/iana.warc.gz": 171,
    "pywb/warcs/missing-status-text.warc": 1,
    "pywb/warcs/post-test.warc.gz": 3,
    # resiliparse
    "resiliparse/block-sized-records.warc": 0,  # unknown WARC-Type, read and left to callers
    "resiliparse/block-sized-records.warc.gz": 0,
    "resiliparse/block-sized-records.warc.lz4": "LZ4",
    "resiliparse/clipped.warc.gz": "truncated",
    "resiliparse/clueweb-quirk.warc.gz": 29,
    "resiliparse/warcfile.warc": 16,
    "resiliparse/warcfile.warc.gz": 16,
    "resiliparse/warcfile.warc.lz4": "LZ4",
    # warcio
    "warcio/bad.arc": "record length '-1'",  # negative and non-numeric ARC lengths
    "warcio/example-bad-non-chunked.warc.gz": 2,  # whole-file gzip
    "warcio/example-bad.warc.gz.bad": 3,  # whole-file gzip
    "warcio/example-digest.warc": 0,  # request records only
    "warcio/example-iana.org-chunked.warc": 1,
    "warcio/example-resource.warc.gz": 0,
    "warcio/example-space-in-target-uri.warc.gz": 0,  # a resource record
    "warcio/example-space-in-url.arc": 1,  # stale ARC length, whole HTTP message: read
    "warcio/example-trunc.warc": "Content-Length is wrong",
    "warcio/example-wget-bad-target-uri.warc.gz": 1,
    "warcio/example-wrong-chunks.warc.gz": "truncated",
    "warcio/example.arc": 1,
    "warcio/example.arc.gz": 1,
    "warcio/example.warc": 2,
    "warcio/example.warc.gz": 2,
    "warcio/post-test.warc.gz": 3,
    # warcio.js
    "warcio.js/example-bad-length.warc": "Content-Length is wrong",
    "warcio.js/example-resource.warc.gz": 0,
    "warcio.js/example.warc": 2,
    "warcio.js/post-test-more.warc": 3,  # gzip despite its name
    "warcio.js/redirect.warc": 1,
}
#: SOURCE.md: "pywb/cdx*/ hold CDX/CDXJ indexes for the pywb WARCs": index files, not archives.
INDEX_FOLDERS = ("pywb/cdx/", "pywb/cdxj/")


def expected_outcome(name: str) -> int | str | None:
    if name in CORPUS:
        return CORPUS[name]
    if name.startswith(INDEX_FOLDERS):
        return ""
    raise AssertionError(f"{name}: corpus file without a stated outcome; add it to CORPUS")


def _outcome(path: Path) -> tuple[list, ArchiveError | None]:
    records: list = []
    try:
        for record in iter_records(path):
            records.append(record)
    except ArchiveError as exc:
        return records, exc
    return records, None


def test_every_corpus_file_has_its_stated_outcome(warc_corpus):
    """Each file reads (with its number of responses) or fails with its ArchiveError."""
    files = sorted(p for p in warc_corpus.rglob("*") if p.is_file())
    assert len(files) > 50
    for path in files:
        name = path.relative_to(warc_corpus).as_posix()
        want = expected_outcome(name)
        records, error = _outcome(path)
        if isinstance(want, str):
            assert error is not None, f"{name} was read without error, expected {want!r}"
            assert want in error.problem, f"{name}: {error}"
            assert str(path) in str(error) and error.offset is not None and error.offset >= 0
            assert "Traceback" not in str(error) and len(str(error)) < 400
            continue
        assert error is None, f"{name}: {error}"
        assert records, f"{name}: no record and no error"
        responses = list(iter_responses([path]))
        if want is None:
            assert responses, name
        else:
            assert len(responses) == want, name
        http = [r for r in responses if r.url.startswith("http") and r.payload is not None]
        assert all(r.status for r in http), name


def test_the_table_covers_both_outcomes(warc_corpus):
    """The corpus copy exercises refusals and reads (guards against an empty or moved copy)."""
    present = [name for name in CORPUS if (warc_corpus / name).exists()]
    assert sum(isinstance(CORPUS[n], int) for n in present) >= 30
    assert sum(bool(isinstance(CORPUS[n], str) and CORPUS[n]) for n in present) >= 12


def test_arc_with_a_stale_length_reads_like_warcio(warc_corpus):
    """SOURCE.md: "space in ARC URL line", warcio reads it. Its HTTP head has LF line ends, so
    the ARC length (counted with CRLF) overshoots the file; the HTTP message itself is whole."""
    (record,) = list(iter_responses([warc_corpus / "warcio" / "example-space-in-url.arc"]))
    assert record.url == (
        "http://example.com/index.cfm?FuseAction=Email&EmailTitle=Examples%20From%20The"
        "%20Live%20Web&IsPopUp=False"
    )
    assert record.status == 200 and record.header("Content-Length") == "1270"
    assert len(record.payload) == 1270 and record.payload.endswith(b"</html>\n")


def _arc(records: list[tuple[str, bytes, int]]) -> bytes:
    """An ARC v1 file: the filedesc header, then (url, content, declared length) records."""
    desc = b"1 0 test\nURL IP-address Archive-date Content-type Archive-length\n"
    out = b"filedesc://t.arc 127.0.0.1 20240501120000 text/plain %d\n%s\n" % (len(desc), desc)
    for url, content, length in records:
        out += b"%s 192.0.2.1 20240501120000 text/html %d\n%s\n" % (url.encode(), length, content)
    return out


def test_arc_tolerance_stops_at_a_cut_http_message(tmp_path):
    body = b"<html>" + b"x" * 200 + b"</html>"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
    stale = http.replace(b"\r\n", b"\n") + body  # line ends rewritten, length kept
    good = tmp_path / "stale.arc"
    good.write_bytes(_arc([("http://a.example/", stale, len(http) + len(body))]))
    (record,) = list(iter_responses([good]))
    assert record.payload == body
    # The same record cut inside its body: the HTTP Content-Length is not met, so truncated.
    cut = tmp_path / "cut.arc"
    cut.write_bytes(_arc([("http://a.example/", (http + body)[:-50], len(http) + len(body))]))
    with pytest.raises(ArchiveError, match="record truncated"):
        list(iter_records(cut))
    # And a stale length is forgiven only at the end: mid-file it swallows the next record.
    mid = tmp_path / "mid.arc"
    mid.write_bytes(
        _arc(
            [
                ("http://a.example/", stale, len(http) + len(body)),
                ("http://b.example/", http + body, len(http) + len(body)),
            ]
        )
    )
    with pytest.raises(ArchiveError):
        list(iter_records(mid))


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
