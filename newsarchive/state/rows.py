"""What goes into the state store and comes out of it: frozen values, not live rows.

Callers get a snapshot they can keep and compare (a row read before a fetch and the fetch's
outcome), and moments are stored in one text form (:func:`iso`) so SQLite sorts and compares them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class StoredRecord:
    """A full ``response`` record some run archived: what a ``revisit`` record refers to."""

    uri: str
    date: str
    """``WARC-Date`` of the record."""
    record_id: str
    payload_digest: str | None = None
    run_id: str | None = None
    filename: str | None = None
    """WARC file name, relative to the run folder of ``run_id``."""
    offset: int | None = None
    length: int | None = None


@dataclass(frozen=True)
class ArticleState:
    """The state store's row for one article."""

    article_id: str
    url: str | None = None
    canonical_url: str | None = None
    published: datetime | None = None
    last_fetch: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    item_digest: str | None = None
    version: int = 0
    """Number of distinct items emitted so far (0: fetched, but no item yet)."""
    record: StoredRecord | None = None
    """The last full response record of this article (revisits refer to it)."""
    first_seen: datetime | None = None
    """First settled fetch (the age of an article without a publication date)."""
    removed: datetime | None = None
    """When the article was found gone (404, 410, redirect to a section page); None: live."""
    removed_reason: str | None = None
    """``http_404``, ``http_410`` or ``redirect``."""
    fingerprint: dict[str, Any] | None = None
    """What the last item said, field by field (:func:`newsarchive.changes.fingerprint`)."""
    hints: dict[str, Any] | None = None
    """The discovery hints of the last fetch (a re-check asks with the same ones)."""
    rechecked: datetime | None = None
    """The re-check schedule's clock at the last re-check (the run's start, or the moment
    ``NEWSARCHIVE_RECHECK_NOW`` names)."""

    @property
    def last_check(self) -> datetime | None:
        """The later of the last fetch and the last re-check's clock."""
        moments = [m for m in (self.last_fetch, self.rechecked) if m is not None]
        return max(moments) if moments else None


@dataclass(frozen=True)
class FetchRecord:
    """What one fetch of an article established (written when the fetch is settled)."""

    url: str
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    record: StoredRecord | None = None
    run_id: str | None = None


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 text for storage (sorts and compares as text)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def parse_iso(value: str | None) -> datetime | None:
    """Inverse of :func:`iso`; also accepts the ``Z`` suffix items use."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def json_object(value: str | None) -> dict[str, Any] | None:
    """A stored JSON object (None when absent, empty or not an object): both stores keep
    fingerprints and hints as JSON text."""
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def json_text(value: Mapping[str, Any] | None) -> str | None:
    """Inverse of :func:`json_object` (stable key order, so equal objects store equal text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value is not None else None
