"""Read WARC, ARC and WACZ files (ours and anyone's) without Scrapy, for replay and re-extraction.

warcio does the parsing; this module adds what replay needs on top: one iterator over gzip-per-
record, whole-file gzip, uncompressed, ARC and WACZ inputs; revisit records resolved to their
original payload; lookups by URL; and one :class:`ArchiveError` (file, offset, problem) for every
kind of malformed input, because a traceback from deep inside a parser helps no archivist.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

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
    payload_digest: str | None
    refers_to: str | None = None
    refers_to_uri: str | None = None
    refers_to_date: str | None = None
    ip_address: str | None = None
    content_type: str | None = None
    protocol: str | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    payload: bytes | None = None
    """None for a revisit whose original could not be found (see :meth:`ArchiveIndex.resolve`)."""
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
        raise ArchiveError(label, offset, f"not a valid WARC/ARC record ({message[:160]})") from exc
    except (EOFError, zlib_errors()) as exc:
        raise ArchiveError(label, offset, f"truncated or corrupt compressed data ({exc})") from exc
    except Exception as exc:  # warcio raises ValueError, AttributeError, ... on garbage
        raise ArchiveError(
            label, offset, f"unparseable record ({type(exc).__name__}: {str(exc)[:160]})"
        ) from exc


def zlib_errors() -> type[Exception]:
    import zlib

    return zlib.error


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """warcio prints warnings to stderr; capture them, they become ArchiveError messages."""
    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer):
        yield buffer


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
    if http is not None and record.rec_type != "request":
        code = (http.get_statuscode() or "").strip()
        status = int(code) if code.isdigit() else None
        protocol = http.protocol or None
        http_pairs = tuple((str(n), str(v)) for n, v in http.headers)
    url = headers.get_header("WARC-Target-URI")
    if url:
        url = url.strip().strip("<>")
    return ArchivedRecord(
        source=source,
        offset=offset,
        length=length,
        rec_type=rec_type,
        url=url or None,
        date=headers.get_header("WARC-Date"),
        record_id=headers.get_header("WARC-Record-ID"),
        payload_digest=headers.get_header("WARC-Payload-Digest"),
        refers_to=headers.get_header("WARC-Refers-To"),
        refers_to_uri=headers.get_header("WARC-Refers-To-Target-URI"),
        refers_to_date=headers.get_header("WARC-Refers-To-Date"),
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


# -- the replay index --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pointer:
    source: RecordSource
    offset: int


class ArchiveIndex:
    """URL → captures of a set of archives; reads payloads on demand and resolves revisits.

    A URL captured several times is answered in capture order (the second request for a URL
    gets its second capture, and so on; past the last, the last), which replays retries and
    repeated fetches (robots.txt) as they happened.
    """

    def __init__(
        self,
        paths: Iterable[str | Path],
        *,
        errors: list[ArchiveError] | None = None,
        visit: Callable[[ArchivedRecord], None] | None = None,
    ) -> None:
        """Index ``paths`` (files or run folders).

        With ``errors``, a malformed file is appended there and its records up to the problem
        are kept, instead of raising; ``visit`` sees every record with its payload.
        """
        self.files = archive_files(paths)
        self._by_url: dict[str, list[_Pointer]] = defaultdict(list)
        self._by_digest: dict[str, _Pointer] = {}
        self._by_id: dict[str, _Pointer] = {}
        self._served: dict[str, int] = defaultdict(int)
        self.records = 0
        for path in self.files:
            try:
                self._add_file(path, visit)
            except ArchiveError as exc:
                if errors is None:
                    raise
                errors.append(exc)

    def _add_file(self, path: Path, visit: Callable[[ArchivedRecord], None] | None) -> None:
        for record in iter_records(path, payloads=visit is not None):
            self.records += 1
            if visit is not None:
                visit(record)
            if record.rec_type not in RESPONSE_TYPES or not record.url:
                continue
            pointer = _Pointer(record.source, record.offset)
            self._by_url[url_key(record.url)].append(pointer)
            if record.rec_type == "response":
                if record.payload_digest:
                    self._by_digest.setdefault(record.payload_digest, pointer)
                if record.record_id:
                    self._by_id[record.record_id] = pointer

    def __len__(self) -> int:
        return len(self._by_url)

    def __contains__(self, url: str) -> bool:
        return url_key(url) in self._by_url

    def urls(self) -> list[str]:
        return list(self._by_url)

    def lookup(self, url: str) -> ArchivedRecord | None:
        """The next capture of ``url`` (revisits resolved), or None when it was never archived."""
        key = url_key(url)
        captures = self._by_url.get(key)
        if not captures:
            return None
        index = min(self._served[key], len(captures) - 1)
        self._served[key] += 1
        return self.load(captures[index])

    def load(self, pointer: _Pointer) -> ArchivedRecord:
        record = read_record(pointer.source, pointer.offset)
        return self.resolve(record) if record.rec_type == "revisit" else record

    def resolve(self, revisit: ArchivedRecord) -> ArchivedRecord:
        """A revisit with the original's payload (by WARC-Refers-To, else by payload digest).

        The revisit's own HTTP head is kept when it has one (it is what the server sent then).
        When the original is in none of the archives given, ``payload`` is None (callers count
        it; one dangling revisit must not make a whole archive unreadable).
        """
        original = self._by_id.get(revisit.refers_to or "") or self._by_digest.get(
            revisit.payload_digest or ""
        )
        if original is None:
            return replace(revisit, payload=None)
        base = read_record(original.source, original.offset)
        headers = revisit.headers or base.headers
        return replace(
            revisit,
            status=revisit.status if revisit.headers else base.status,
            protocol=revisit.protocol or base.protocol,
            headers=headers,
            payload=base.payload,
            resolved_from=base.record_id,
        )


def iter_responses(paths: Iterable[str | Path]) -> Iterator[ArchivedRecord]:
    """Every response and revisit record of the archives, revisits resolved, in file order."""
    index = ArchiveIndex(paths)
    for path in index.files:
        for record in iter_records(path, payloads=True):
            if record.rec_type == "response":
                yield record
            elif record.rec_type == "revisit":
                yield index.resolve(record)
