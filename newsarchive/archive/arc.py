"""What ARC v1 input needs beyond what warcio does for it, kept apart from the WARC reader.

warcio reads ARC records as WARC ones (``arc2warc``), but the reader must still tell a file
without an ARC header from a damaged WARC, forgive the stale lengths of ARC files converted
after they were written, and give every record an id that is the same on every read (warcio
makes up a random one). This module answers from bytes and names only; the reader
(:mod:`newsarchive.archive.reader`) opens the files and applies the answers.
"""

from __future__ import annotations

import re
import uuid
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warcio.recordloader import ArcWarcRecord

#: First line of an ARC v1 record: URL, IP address, 14-digit date, content type, length.
#: (warcio splits it from the right, so the URL may hold spaces.)
_ARC_URL_LINE = re.compile(rb"[a-z][a-z0-9+.-]*:[^\r\n]* \S+ \d{14} \S* \d+\r?\n", re.IGNORECASE)
#: Namespace of :func:`derived_record_id`. Never change it: every derived id would change with it.
#: (It is ``uuid5(NAMESPACE_URL, "newsarchive:derived-record-id")``, written out.)
RECORD_ID_NAMESPACE = uuid.UUID("60d46838-211e-50d7-bf32-93f670127f93")


def looks_like_arc(head: bytes) -> bool:
    """The first bytes of a file (gzip or not) are an ARC file's: the ``filedesc://`` header,
    or, lacking it (jwat's ``invalid-arcfile-record-then-garbage.arc``), an ARC v1 URL line,
    whose records warcio reads as ARC all the same, random ids included. A damaged WARC is not."""
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
        except zlib.error:
            return False
    head = head.lstrip()
    return head.startswith(b"filedesc://") or _ARC_URL_LINE.match(head) is not None


def arc_shortfall(record: ArcWarcRecord, data: bytes, short: int) -> tuple[bytes, int]:
    """Forgive an ARC record that ends before its declared length when the HTTP message in it
    is whole; return the payload and the bytes still missing (0 when forgiven).

    ARC lengths were computed by the writing tool, and files edited or converted afterwards
    (line endings rewritten) keep a stale one; warcio reads such records without complaint.
    A record whose own HTTP ``Content-Length`` is not met is truncated, and stays an error.
    """
    http = record.http_headers
    declared = (http.get_header("Content-Length") or "").strip() if http is not None else ""
    if not declared.isdigit() or len(data) < int(declared):
        return data, short
    whole, rest = data[: int(declared)], data[int(declared) :]
    # The ARC record separator ("\n") was read as part of the too-long record: not payload.
    return (whole, 0) if not rest.strip(b"\r\n") else (data, short)


def derived_record_id(filename: str, offset: int, url: str | None, date: str | None) -> str:
    """A ``WARC-Record-ID`` for a record that has none: ``<urn:uuid:...>``, a uuid5 over the
    file name, the record's offset and its target URI and date.

    warcio makes up a random id for every ARC record on every read, so items rebuilt twice
    from one ARC file would name its records differently. The parts are what the items already
    use to point at a record (``warc.filename``, ``warc.offset``) plus what the record says it
    is: the file *name*, not its path, so a moved or mounted copy keeps its ids; the offset,
    the one thing unique within a file (ARC dates have one-second precision, and a crawler may
    capture a URL twice in that second); URI and date, so two different files that happen to
    share a name (``example.arc``) only collide where the record is the same capture anyway.
    Not the payload: ids must not depend on whether payloads are read, nor cost a digest.
    A recompressed or renamed copy has other offsets or another name, so other ids.
    """
    key = "\n".join((filename, str(offset), url or "", date or ""))
    return f"<urn:uuid:{uuid.uuid5(RECORD_ID_NAMESPACE, key)}>"
