"""The two questions a run asks of an article's state, answered without SQLite.

Must a discovered article be fetched again (:func:`refetch_reason`), and does a new item say
something the last one did not (:func:`item_digest`)? Spiders, pipelines and tests ask them of
an :class:`~newsarchive.state.rows.ArticleState` or an item, whatever store it came from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from newsarchive.state.rows import ArticleState

#: Item fields that make up "what the article says". Provenance (url, fetched_at, warc, run_id,
#: discovered_from, http_status, extractor) changes on every fetch and is left out, so an
#: unchanged article has an unchanged digest.
CONTENT_FIELDS = (
    "article_id",
    "site",
    "canonical_url",
    "language",
    "title",
    "description",
    "authors",
    "published",
    "modified",
    "section",
    "tags",
    "image",
    "text",
    "legal_notice",
    "publication",
)


def item_digest(item: Mapping[str, Any]) -> str:
    """Digest of what an item says (:data:`CONTENT_FIELDS`), stable across runs and key order.

    A notice's ``source`` says how it was recognised, not what the page says: it is left out,
    so items written before it existed, or found another way this time, do not change."""
    content = {name: item.get(name) for name in CONTENT_FIELDS}
    notice = content.get("legal_notice")
    if isinstance(notice, Mapping) and "source" in notice:
        content["legal_notice"] = {k: v for k, v in notice.items() if k != "source"}
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def refetch_reason(
    state: ArticleState | None,
    *,
    lastmod: datetime | None,
    published: datetime | None,
    now: datetime,
    refresh_window: timedelta,
) -> str | None:
    """Why a discovered article must be fetched, or None when the last fetch still stands.

    New or never settled: always. Known: only when the sitemap says it changed after our last
    fetch, or while it is young enough to be still edited (the refresh window).
    """
    if state is None or state.last_fetch is None:
        return "new"
    if lastmod is not None and lastmod > state.last_fetch:
        return "lastmod"
    published = published or state.published
    if published is not None and now - published < refresh_window:
        return "refresh_window"
    return None
