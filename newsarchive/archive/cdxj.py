"""The CDXJ index of a run's WARC files, built with ``cdxj-indexer`` (the pywb/WACZ format).

One sorted ``indexes/index.cdxj`` per run folder: the key pywb, ReplayWeb.page and the WACZ
format use to find a capture, and the way :mod:`newsarchive.archive.check` resolves an item's
provenance without scanning WARCs. Each line also carries ``warc-record-id``, so an item's
``warc.record_id`` can be matched exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer
from warcio.archiveiterator import ArchiveIterator

#: Makes the record iterator of one WARC for the indexer: (open file, its path, warcio's
#: ``ArchiveIterator`` keyword arguments) -> iterator. The self-check passes one that verifies
#: every record as it goes, so one read of each WARC serves both.
RecordIterator = Callable[..., ArchiveIterator]

#: Where the index of a run folder lives, relative to the folder (a WACZ holds it gzipped, as
#: ``indexes/index.cdx.gz``: see :mod:`newsarchive.archive.wacz`).
INDEX_PATH = Path("indexes") / "index.cdxj"

#: Records a replay tool can serve. ``metadata`` records (our extracted items, filed under
#: ``metadata://newsarchive/<host>/<path>``) are not captures of any page.
INDEXED_RECORDS = ("response", "revisit", "resource")

#: Extra field so lines can be matched to items by record id, not only by offset.
RECORD_ID_FIELD = "warc-record-id"


class _ClosingIndexer(CDXJIndexer):
    """``CDXJIndexer`` that closes the temporary files it opens for a missing payload digest.

    A record without ``WARC-Payload-Digest`` (other tools' WARCs, a damaged header) gets one
    computed by warcio's ``ensure_digest`` through a ``BufferWARCWriter``: the payload is copied
    into a ``SpooledTemporaryFile`` that replaces the record's stream, and the writer holds
    another. cdxj-indexer 1.5.0 closes neither and leaves them to the garbage collector
    (``ResourceWarning: unclosed file``, at whatever moment it runs).
    """

    def __init__(self, *args, iterator: RecordIterator | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.iterator = iterator
        self.current: Path | None = None

    def process_one(self, input_, output, filename):
        self.current = Path(filename)
        return super().process_one(input_, output, filename)

    def _create_record_iter(self, input_):
        if self.iterator is None or self.current is None:
            return super()._create_record_iter(input_)
        return self.iterator(
            input_,
            self.current,
            no_record_parse=not self.record_parse,
            arc2warc=True,
            verify_http=self.verify_http,
        )

    def _get_digest(self, record, name):
        value = super()._get_digest(record, name)
        consumed = getattr(record, "_orig_stream", None)
        if consumed is not None:  # the payload was read to its end into a temporary copy
            record.raw_stream.close()
            record.raw_stream = consumed  # nothing left to read: the iterator moves on at once
        return value

    def close(self) -> None:
        if self.writer is not None:
            self.writer.out.close()
            self.writer = None


@dataclass(frozen=True)
class CdxjEntry:
    """One parsed CDXJ line."""

    urlkey: str
    timestamp: str
    url: str
    filename: str
    offset: int
    length: int
    record_id: str | None
    mime: str | None
    status: str | None
    digest: str | None


def write_cdxj(warcs: Iterable[Path], output: Path, iterator: RecordIterator | None = None) -> int:
    """Index ``warcs`` into a sorted CDXJ file at ``output`` (atomically); return its lines.

    File names in the index are base names, as in a WACZ's ``archive/`` folder. ``iterator``
    replaces warcio's ``ArchiveIterator`` (it must yield the same records, e.g. a subclass).
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    indexer = _ClosingIndexer(
        str(tmp),
        [str(path) for path in warcs],
        sort=True,
        fields=RECORD_ID_FIELD,
        records=",".join(INDEXED_RECORDS),
        iterator=iterator,
    )
    try:
        indexer.process_all()
    except BaseException:
        tmp.unlink(missing_ok=True)  # a damaged WARC leaves no half-written index behind
        raise
    finally:
        indexer.close()
    if not tmp.exists():  # no input file at all: an empty index, not a missing one
        tmp.write_text("", encoding="utf-8")
    os.replace(tmp, output)
    with output.open("rb") as fh:
        return sum(1 for _ in fh)


def parse_line(line: str) -> CdxjEntry:
    """Parse ``<urlkey> <timestamp> <json>``; raise ValueError naming the problem."""
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) != 3:
        raise ValueError(f"not a CDXJ line (want '<urlkey> <timestamp> <json>'): {line[:120]!r}")
    urlkey, timestamp, blob = parts
    data = json.loads(blob)
    try:
        return CdxjEntry(
            urlkey=urlkey,
            timestamp=timestamp,
            url=data["url"],
            filename=data["filename"],
            offset=int(data["offset"]),
            length=int(data["length"]),
            record_id=data.get(RECORD_ID_FIELD),
            mime=data.get("mime"),
            status=data.get("status"),
            digest=data.get("digest"),
        )
    except KeyError as exc:
        raise ValueError(f"CDXJ line lacks {exc.args[0]!r}: {line[:120]!r}") from None


def read_cdxj(path: Path) -> Iterator[CdxjEntry]:
    """The entries of a CDXJ file, in file order."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("!"):
                yield parse_line(line)
