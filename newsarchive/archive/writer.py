"""A rotating, gzip-per-record WARC/1.1 writer on top of warcio.

Files are written as ``<prefix>-<run id>-<serial>.warc.gz.open`` and renamed when closed, so a
reader (or the next run) can tell finished files from files a crash left behind. Each write
returns the provenance of the record (file, offset, length, id, digest) so items can point at it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.recordloader import ArcWarcRecord
from warcio.warcwriter import WARCWriter

from newsarchive.archive.compression import GzipWARCWriter, check_level
from newsarchive.archive.records import (
    HttpExchange,
    build_metadata_record,
    build_not_modified_record,
    build_request_record,
    build_response_record,
    build_revisit_record,
    warc_date,
)

OPEN_SUFFIX = ".open"
_SAFE_PART = re.compile(r"[^A-Za-z0-9_-]+|\.{2,}")


@dataclass(frozen=True)
class RecordLocation:
    """Where one record landed; mirrors :class:`newsarchive.items.WarcRef`."""

    filename: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None
    record_type: str = "response"


@dataclass(frozen=True)
class WarcWriterConfig:
    """Settings of the writer; built from ``NEWSARCHIVE_WARC_*`` settings or directly in tests."""

    directory: Path
    prefix: str = "newsarchive"
    run_id: str = "run"
    max_size: int = 1024**3
    dedupe: bool = True
    warcinfo: tuple[tuple[str, str], ...] = ()
    #: Payload digest -> (URI, WARC-Date, record id) of a full record stored by an earlier
    #: run (the state store), so an unchanged payload becomes a revisit across runs too.
    lookup: Callable[[str], tuple[str, str, str] | None] | None = None
    #: gzip level of each record's member (1 fastest .. 9 smallest; see archive.compression).
    gzip_level: int = 5


def safe_name_part(value: str) -> str:
    """File-name-safe version of a user-provided prefix or id (no separators, no dot-dot)."""
    cleaned = _SAFE_PART.sub("_", value).strip("._") or "x"
    return cleaned[:80]


class RotatingWarcWriter:
    """Appends records to the current WARC file and starts a new one past ``max_size``."""

    def __init__(self, config: WarcWriterConfig) -> None:
        check_level(config.gzip_level)  # before any file is opened
        self.config = config
        self.directory = Path(config.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._serial = 0
        self._file: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name: str | None = None
        self._seen: dict[str, tuple[str, str, str]] = {}
        self.finished: list[Path] = []
        self.records_written = 0
        self.revisits_written = 0

    # -- file handling -------------------------------------------------------------------
    def _filename(self, serial: int) -> str:
        prefix = safe_name_part(self.config.prefix)
        run_id = safe_name_part(self.config.run_id)
        return f"{prefix}-{run_id}-{serial:05d}.warc.gz"

    def _open_next(self) -> None:
        self._serial += 1
        self._name = self._filename(self._serial)
        path = self.directory / (self._name + OPEN_SUFFIX)
        self._file = open(path, "xb")  # noqa: SIM115 - lives until rotation or close()
        self._writer = GzipWARCWriter(self._file, level=self.config.gzip_level, warc_version="1.1")
        info = {
            "software": _software(),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "isPartOf": self.config.run_id,
        }
        info.update(dict(self.config.warcinfo))
        self._writer.write_record(self._writer.create_warcinfo_record(self._name, info))

    def _close_current(self) -> None:
        if self._file is None or self._name is None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = self.directory / self._name
        os.replace(self.directory / (self._name + OPEN_SUFFIX), final)
        self.finished.append(final)
        self._file = None
        self._writer = None
        self._name = None

    def _ensure_open(self) -> WARCWriter:
        if self._file is not None and self._file.tell() >= self.config.max_size:
            self._close_current()
        if self._file is None:
            self._open_next()
        assert self._writer is not None
        return self._writer

    def _write(self, record) -> RecordLocation:
        assert self._file is not None and self._writer is not None and self._name is not None
        offset = self._file.tell()
        self._writer.write_record(record)
        self.records_written += 1
        headers = record.rec_headers
        return RecordLocation(
            filename=self._name,
            offset=offset,
            length=self._file.tell() - offset,
            record_id=headers.get_header("WARC-Record-ID"),
            payload_digest=headers.get_header("WARC-Payload-Digest"),
            record_type=headers.get_header("WARC-Type"),
        )

    # -- public API ------------------------------------------------------------------------
    def write_exchange(
        self,
        exchange: HttpExchange,
        not_modified_of: tuple[str, str, str, str | None] | None = None,
    ) -> RecordLocation:
        """Write response (or revisit) then request; return the response record's location.

        ``not_modified_of`` (URI, date, record id, payload digest of the stored full response a
        conditional request was based on) turns a 304 into a server-not-modified revisit.
        """
        with self._lock:
            writer = self._ensure_open()
            if exchange.status == 304 and not_modified_of is not None:
                uri, date, record_id, stored_digest = not_modified_of
                record = build_not_modified_record(
                    writer,
                    exchange,
                    refers_to_uri=uri,
                    refers_to_date=date,
                    refers_to_id=record_id,
                    payload_digest=stored_digest,
                )
                new_digest = None
            else:
                record, new_digest = self._response_or_revisit(writer, exchange)
            if record.rec_type == "revisit":
                self.revisits_written += 1
            location = self._write(record)
            if new_digest is not None:
                self._seen[new_digest] = (
                    exchange.url,
                    warc_date(exchange.fetched_at),
                    location.record_id,
                )
            self._write(build_request_record(writer, exchange, concurrent_to=location.record_id))
            self._file.flush()
            return location

    def _response_or_revisit(
        self, writer: WARCWriter, exchange: HttpExchange
    ) -> tuple[ArcWarcRecord, str | None]:
        """The response record, or an identical-payload revisit when the payload was archived
        before (this writer, or ``config.lookup``: earlier runs); with the digest to remember
        when the payload is new and deduplication is on, else ``None``."""
        record = build_response_record(writer, exchange)
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        if not (self.config.dedupe and exchange.payload):
            return record, None
        original = self._seen.get(digest)
        if original is None and self.config.lookup:
            original = self.config.lookup(digest)
        if original is None:
            return record, digest
        uri, date, record_id = original
        revisit = build_revisit_record(
            writer,
            exchange,
            payload_digest=digest,
            refers_to_uri=uri,
            refers_to_date=date,
            refers_to_id=record_id,
        )
        return revisit, None

    def write_metadata(self, url: str, refers_to: str, data: dict) -> RecordLocation:
        """Write ``data`` as JSON in a ``metadata`` record about page ``url``'s response
        ``refers_to``, filed under ``metadata://newsarchive/`` (never served as the page)."""
        body = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        with self._lock:
            writer = self._ensure_open()
            location = self._write(
                build_metadata_record(writer, url, refers_to, body, "application/json")
            )
            self._file.flush()
            return location

    def close(self) -> list[Path]:
        """Close and rename the current file; return every finished file of this writer."""
        with self._lock:
            self._close_current()
        return list(self.finished)


def _software() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("newsarchive", "scrapy", "warcio"):
        try:
            parts.append(f"{dist}/{version(dist)}")
        except PackageNotFoundError:
            continue
    return " ".join(parts)
