"""Teach a state store what an earlier crawl left in its folder: its archived response records
(revisit targets, with their validators) and its ``items.jsonl`` lines (articles settled).

A run (or, distributed, a worker) killed between writing a record or an item line and settling it
in the state would otherwise fetch the article again as new: a second full response, a second
item. Folding its repaired files in first makes the re-fetch a revisit and the item unchanged
(:mod:`newsarchive.state.recovery`, and a distributed run's recovery of dead workers). The same
item folding is the one-time migration of a state file from before article keys (schema 1, when
``news`` items had no key and were never settled): :func:`backfill_article_keys`.

WARCs are read with :mod:`newsarchive.archive.reader`, item lines with
:mod:`newsarchive.archive.itemlines`. Works on any store with the ``StateStore`` API (SQLite or
Redis). Scrapy-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from newsarchive.archive.itemlines import read_item_lines
from newsarchive.archive.reader import iter_records
from newsarchive.discovery.urlkey import article_key
from newsarchive.state.freshness import item_digest
from newsarchive.state.rows import ArticleState, FetchRecord, StoredRecord, parse_iso
from newsarchive.state.store import StateStore

#: ``WARC-Record-ID`` → (ETag, Last-Modified) of the archived responses.
Validators = dict[str, tuple[str | None, str | None]]


class FoldableStore(Protocol):
    def article(self, article_id: str) -> ArticleState | None: ...
    def original(self, payload_digest: str) -> StoredRecord | None: ...
    def remember_original(self, record: StoredRecord) -> bool: ...
    def record_fetch(self, article_id: str, fetch: FetchRecord, **kwargs: Any) -> None: ...


def fold_warcs(store: FoldableStore, warcs: Iterable[Path], run_id: str) -> tuple[int, Validators]:
    """Register every full response record as its payload's original: (new payloads, validators)."""
    validators: Validators = {}
    payloads = 0
    for path in warcs:
        for record in iter_records(path, payloads=False):
            if record.rec_type != "response":
                continue
            record_id = record.record_id or ""
            validators[record_id] = (record.header("ETag"), record.header("Last-Modified"))
            stored = StoredRecord(
                uri=record.url or "",
                date=record.date or "",
                record_id=record_id,
                payload_digest=record.payload_digest,
                run_id=run_id,
                filename=path.name,
                offset=record.offset,
                length=record.length,
            )
            payloads += store.remember_original(stored)
    return payloads, validators


def fold_item_lines(
    store: FoldableStore, lines: Path, run_id: str, validators: Validators | None = None
) -> int:
    """Settle each item of a JSONL file the store does not know yet: items settled."""
    return sum(fold_item(store, item, run_id, validators or {}) for item in read_item_lines(lines))


def fold_in_run(store: FoldableStore, folder: Path, run_id: str) -> dict[str, int]:
    """Teach the store what a (repaired) killed run archived and emitted before it died."""
    payloads, validators = fold_warcs(store, sorted(folder.glob("*.warc.gz")), run_id)
    items = fold_item_lines(store, folder / "items.jsonl", run_id, validators)
    return {"payloads_registered": payloads, "items_registered": items}


def backfill_article_keys(store: StateStore) -> int | None:
    """Once, for a schema-1 state file: settle the items of the runs it lists, newest first
    (so the stored digest is the last one emitted); items already settled are skipped.

    Returns how many were settled, or None when the file needed no back-fill.
    """
    if not store.needs_backfill():
        return None
    folded = sum(
        fold_item_lines(store, folder / "items.jsonl", run_id)
        for run_id, folder in store.finished_runs()
    )
    store.mark_backfilled()
    return folded


def fold_item(
    store: FoldableStore, item: dict[str, Any], run_id: str, validators: Validators
) -> int:
    """Settle one emitted item unless the store already holds it (or a newer version): 1 or 0."""
    if not isinstance(item, dict):
        return 0
    url = item.get("url")
    if not (item.get("article_key") or url):
        return 0
    # Lines written before article keys existed: derived as the crawl derives them now.
    aid = str(item.get("article_key") or article_key(url, item.get("article_id")))
    digest = item_digest(item)
    version = int(item.get("version") or 1)
    known = store.article(aid)
    if known is not None and (known.item_digest == digest or known.version >= version):
        return 0
    warc = item.get("warc") or {}
    payload_digest = warc.get("payload_digest")
    original = store.original(payload_digest) if payload_digest else None
    etag, last_modified = validators.get(warc.get("record_id", ""), (None, None))
    fetched_at = parse_iso(item.get("fetched_at")) or datetime.now(UTC)
    store.record_fetch(
        aid,
        FetchRecord(
            url=item.get("url") or "",
            fetched_at=fetched_at,
            etag=etag,
            last_modified=last_modified,
            payload_digest=payload_digest,
            record=original,
            run_id=run_id,
        ),
        item_digest=digest,
        version=version,
        canonical_url=item.get("canonical_url"),
        published=parse_iso(item.get("published")),
    )
    return 1
