"""Read WARC, ARC and WACZ files (ours and anyone's) without Scrapy, for replay and re-extraction.

warcio does the parsing; this module adds what replay needs on top: one iterator over gzip-per-
record, whole-file gzip, uncompressed, ARC and WACZ inputs, and one :class:`ArchiveError` (file,
offset, problem) for every kind of malformed input, because a traceback from deep inside a parser
helps no archivist. Lookups by URL and revisit resolution are in :mod:`newsarchive.archive.index`.
A record without a ``WARC-Record-ID`` of its own (every ARC record) gets a stable one
(:func:`~newsarchive.archive.arc.derived_record_id`), so items and replay can name it the same
way on every read; what else ARC input needs is in :mod:`newsarchive.archive.arc`.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from newsarchive.archive.arc import arc_shortfall, derived_record_id, looks_like_arc

#: File names (lower-case endings) taken from a run folder or a WACZ's ``archive/``.
ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wacz")
#: Record types that carry (or point at) an HTTP response.
RESPONSE_TYPES = ("response", "revisit")
_ZIP_MAGIC = b"PK\x03\x04"
_LZ4_MAGIC = b"\x04\x22\x4d\x18"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class ArchiveError(Exception):
    """A WARC/ARC/WACZ input that cannot be read: says which file, where, and what is wrong."""

    def __init__(self, source: str | Path, offset: int | None, problem: str) -> None:
        self.source = str(source)
        # warcio's bookkeeping can go below 0 on non-WARC gzip input; 0 is the honest answer.
        self.offset = max(offset, 0) if offset is not None else None
        self.problem = problem
        where = f" at offset {self.offset}" if self.offset is not None else ""
        super().__init__(f"{self.source}{where}: {problem}")


@dataclass(frozen=True)
class RecordSource:
    """Where records come from: a file, or a member of a WACZ; ``whole_gzip`` when one gzip
    stream covers the whole file (offsets then count uncompressed bytes)."""

    path: Path
    member: str | None = None
    whole_gzip: bool = False

    @property
    def label(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def filename(self) -> str:
        """The WARC file name, as items' ``warc.filename`` spells it."""
        return Path(self.member).name if self.member else self.path.name


@dataclass(frozen=True)
class ArchivedRecord:
    """One record, parsed: WARC headers that matter for replay, the HTTP head and the payload.

    ``payload`` is the HTTP entity exactly as stored (still content-encoded; still chunked if
    the archiver stored it chunked); for a revisit it is the original's, once resolved.
    """

    source: RecordSource
    offset: int
    length: int
    rec_type: str
    url: str | None
    date: str | None
    record_id: str | None
    """``WARC-Record-ID``; derived from file name, offset, URI and date when the record has
    none (ARC records, WARC records missing the header): :func:`derived_record_id`."""
    payload_digest: str | None
    refers_to: str | None = None
    refers_to_uri: str | None = None
    refers_to_date: str | None = None
    profile: str | None = None
    """``WARC-Profile`` of a revisit (identical-payload-digest or server-not-modified)."""
    ip_address: str | None = None
    content_type: str | None = None
    protocol: str | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    payload: bytes | None = None
    """None for a revisit whose original could not be found
    (:meth:`newsarchive.archive.index.ArchiveIndex.resolve`)."""
    resolved_from: str | None = None
    """For a resolved revisit: ``WARC-Record-ID`` of the record whose payload was used."""

    def header(self, name: str) -> str | None:
        """First value of an HTTP header (case-insensitive)."""
        lname = name.lower()
        return next((v for n, v in self.headers if n.lower() == lname), None)


# -- finding files -----------------------------------------------------------------------------
def archive_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively) into their finished WARC/ARC files, else their WACZ.

    ``.open`` files (still being written, or left by a crash) do not match the suffixes.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.name.lower().endswith(ARCHIVE_SUFFIXES)
            )
            # A run folder's WACZ packs the same WARCs: read it only when they are not there.
            with_warcs = {p.parent for p in inside if not p.name.lower().endswith(".wacz")}
            found.extend(
                p
                for p in inside
                if not (p.name.lower().endswith(".wacz") and p.parent in with_warcs)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise ArchiveError(path, None, "no such file or folder")
    return found


def sources_of(path: Path) -> list[RecordSource]:
    """The record sources of one file: itself, or the ``archive/`` members of a WACZ."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ArchiveError(path, None, f"cannot open: {exc.strerror or exc}") from exc
    if magic == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as zf:
                members = [
                    n
                    for n in zf.namelist()
                    if n.startswith("archive/") and n.lower().endswith(ARCHIVE_SUFFIXES[:4])
                ]
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveError(path, None, f"not a readable WACZ/zip file: {exc}") from exc
        if not members:
            raise ArchiveError(path, None, "zip file without archive/*.warc* members: not a WACZ")
        return [RecordSource(path, member=name) for name in sorted(members)]
    if magic == _LZ4_MAGIC:
        raise ArchiveError(path, 0, "LZ4-compressed WARC is not supported; decompress it first")
    if magic == _ZSTD_MAGIC:
        raise ArchiveError(path, 0, "zstd-compressed WARC is not supported; decompress it first")
    return [RecordSource(path)]


# -- reading -----------------------------------------------------------------------------------
@contextlib.contextmanager
def open_source(source: RecordSource) -> Iterator[IO[bytes]]:
    """A binary stream over the source's records (seekable in every case)."""
    if source.member is not None:
        with zipfile.ZipFile(source.path) as zf, zf.open(source.member) as member:
            yield member
    elif source.whole_gzip:
        with gzip.open(source.path, "rb") as fh:
            yield fh
    else:
        with open(source.path, "rb") as fh:
            yield fh


def iter_records(path: str | Path, *, payloads: bool = True) -> Iterator[ArchivedRecord]:
    """Every record of a WARC, ARC or WACZ file, in file order (revisits not resolved).

    Raises :class:`ArchiveError` for anything malformed; never another exception from parsing.
    """
    for source in sources_of(Path(path)):
        yield from _iter_source(source, payloads=payloads)


def _iter_source(source: RecordSource, *, payloads: bool) -> Iterator[ArchivedRecord]:
    done = 0
    try:
        for record in _parse(source, payloads=payloads):
            done += 1
            yield record
    except _WholeFileGzip:
        # One gzip stream for the whole file (warcio refuses it for random access): read it
        # as a stream, skipping the records already given.
        whole = replace(source, whole_gzip=True)
        for index, record in enumerate(_parse(whole, payloads=payloads)):
            if index >= done:
                yield record


class _WholeFileGzip(Exception):
    """Internal: warcio found several records in one gzip member."""


def _parse(source: RecordSource, *, payloads: bool, start: int | None = None):
    label = source.label
    offset: int | None = start or 0
    try:
        with open_source(source) as stream:
            if start is not None:
                stream.seek(start)
            iterator = ArchiveIterator(stream, arc2warc=True)
            while True:
                with _quiet() as noise:
                    try:
                        record = next(iterator)
                    except StopIteration:
                        return
                    rec = _convert(iterator, record, source, payloads, noise)
                offset = rec.offset + rec.length
                yield rec
                if start is not None:
                    return
    except ArchiveError:
        raise
    except ArchiveLoadFailed as exc:
        message = " ".join(str(exc).split())
        if "non-chunked gzip" in message and not source.whole_gzip:
            raise _WholeFileGzip from exc
        raise ArchiveError(
            label, offset, f"not a valid WARC/ARC record ({_in_words(message)[:160]})"
        ) from exc
    except (EOFError, zlib_errors()) as exc:
        raise ArchiveError(label, offset, f"truncated or corrupt compressed data ({exc})") from exc
    except Exception as exc:  # warcio raises ValueError, AttributeError, ... on garbage
        raise ArchiveError(
            label, offset, f"unparseable record ({type(exc).__name__}: {str(exc)[:160]})"
        ) from exc


def _in_words(message: str) -> str:
    """warcio quotes the line it could not read; binary garbage is said in words, not dumped."""
    reason, _, line = message.partition(", first line:")
    if line and ("\\x" in line or not line.isascii()):
        return f"{reason}: binary data where a WARC/ARC header line should start"
    return message


def not_an_archive(path: Path) -> str | None:
    """Why the file at ``path`` is no WARC, ARC or WACZ, in words, judged by its first bytes
    (``"it holds a PDF document"``); None when it may be one (its records then say more)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None  # reported when read
    if head[:4] in (_ZIP_MAGIC, _LZ4_MAGIC, _ZSTD_MAGIC):
        return None
    gzipped = head[:2] == b"\x1f\x8b"
    if gzipped:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
        except zlib.error as exc:
            return f"not a WARC, ARC or WACZ file: its gzip data is damaged at the start ({exc})"
    start = head.lstrip()
    if not start:
        what = (
            "a gzip stream with no data in it (truncated?)" if gzipped else "nothing: it is empty"
        )
        return f"not a WARC, ARC or WACZ file: {what}"
    if start.startswith(b"WARC/") or looks_like_arc(start):
        return None
    if start.startswith(b"%PDF-"):
        what = "a PDF document"
    elif b"\x00" in start or not _is_text(start):
        what = "binary data"
    else:
        first = start.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        what = f"text starting {first[:40]!r}"
    return f"not a WARC, ARC or WACZ file: it holds {what}, not a 'WARC/' or ARC header"


def _is_text(data: bytes) -> bool:
    try:
        data[:1024].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 1000  # a character cut at the end of the sample
    return True


def zlib_errors() -> type[Exception]:
    return zlib.error


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """warcio prints warnings to stderr; capture them, they become ArchiveError messages."""
    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer):
        yield buffer


@functools.lru_cache(maxsize=64)
def is_arc(source: RecordSource) -> bool:
    """An ARC file, gzip or not, by its first bytes
    (:func:`~newsarchive.archive.arc.looks_like_arc`); an unreadable one is not."""
    try:
        with open_source(source) as stream:
            head = stream.read(512)
    except (OSError, zlib.error, zipfile.BadZipFile):
        return False
    return looks_like_arc(head)


def _convert(iterator, record, source: RecordSource, payloads: bool, noise) -> ArchivedRecord:
    headers = record.rec_headers
    rec_type = (record.rec_type or "").strip().lower()
    errors_before = iterator.err_count
    data = record.raw_stream.read()
    short = getattr(record.raw_stream, "limit", 0) or 0
    offset = iterator.get_record_offset()
    length = iterator.get_record_length()
    if not rec_type:
        raise ArchiveError(source.label, offset, "record without WARC-Type")
    declared = (headers.get_header("Content-Length") or "").strip()
    if not declared.isdigit():
        raise ArchiveError(
            source.label, offset, f"record length {declared!r} is not a non-negative integer"
        )
    if short > 0 and is_arc(source):
        data, short = arc_shortfall(record, data, short)
    if short > 0:
        raise ArchiveError(
            source.label,
            offset,
            f"record truncated: {short} bytes missing of its declared Content-Length",
        )
    if iterator.err_count > errors_before:
        raise ArchiveError(
            source.label,
            offset,
            "record not followed by the blank lines WARC requires: its Content-Length is wrong",
        )
    http = record.http_headers
    status = protocol = None
    http_pairs: tuple[tuple[str, str], ...] = ()
    if http is not None:  # a request record's are the headers sent (Referer: where it was found)
        http_pairs = tuple((str(n), str(v)) for n, v in http.headers)
        if record.rec_type != "request":
            code = (http.get_statuscode() or "").strip()
            status = int(code) if code.isdigit() else None
            protocol = http.protocol or None
    url = headers.get_header("WARC-Target-URI")
    if url:
        url = url.strip().strip("<>")
    date = headers.get_header("WARC-Date")
    record_id = headers.get_header("WARC-Record-ID")
    if not (record_id or "").strip() or is_arc(source):  # ARC: warcio's id is new on every read
        record_id = derived_record_id(source.filename, offset, url, date)
    return ArchivedRecord(
        source=source,
        offset=offset,
        length=length,
        rec_type=rec_type,
        url=url or None,
        date=date,
        record_id=record_id,
        payload_digest=headers.get_header("WARC-Payload-Digest"),
        refers_to=headers.get_header("WARC-Refers-To"),
        refers_to_uri=headers.get_header("WARC-Refers-To-Target-URI"),
        refers_to_date=headers.get_header("WARC-Refers-To-Date"),
        profile=headers.get_header("WARC-Profile"),
        ip_address=headers.get_header("WARC-IP-Address"),
        content_type=headers.get_header("Content-Type"),
        protocol=protocol,
        status=status,
        headers=http_pairs,
        payload=data if payloads else None,
    )


def read_record(source: RecordSource, offset: int) -> ArchivedRecord:
    """The one record at ``offset`` of ``source`` (payload included)."""
    for record in _parse(source, payloads=True, start=offset):
        return record
    raise ArchiveError(source.label, offset, "no record at this offset")


# -- payloads ----------------------------------------------------------------------------------
def dechunk(data: bytes) -> bytes | None:
    """Decode HTTP chunked framing; None when ``data`` is not validly chunked."""
    out = bytearray()
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return None
        size_text = data[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        pos = end + 2
        if size == 0:
            return bytes(out)
        if pos + size > len(data):
            return None
        out += data[pos : pos + size]
        pos += size
        if data[pos : pos + 2] != b"\r\n":
            return None
        pos += 2


def entity_body(record: ArchivedRecord) -> bytes:
    """The body as an HTTP client library hands it over: de-chunked, still content-encoded."""
    data = record.payload or b""
    if "chunked" in (record.header("Transfer-Encoding") or "").lower():
        decoded = dechunk(data)
        if decoded is not None:
            return decoded
    return data


def url_key(url: str) -> str:
    """Lookup key of a URL: canonical form (sorted query, no fragment), so equivalent spellings
    of a request URL and a WARC-Target-URI meet."""
    try:
        return canonicalize_url(url, keep_fragments=False)
    except ValueError:
        return url
