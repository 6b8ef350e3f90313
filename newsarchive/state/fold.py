"""Teach a state store what a killed crawl archived and emitted before it died.

A run (or, distributed, a worker) killed between writing a record or an item line and settling it
in the state would otherwise fetch the article again as new: a second full response, a second
item. Folding its repaired files in first makes the re-fetch a revisit and the item unchanged.
Works on any store with the ``StateStore`` API (SQLite or Redis). Scrapy-free.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from warcio.archiveiterator import ArchiveIterator

from newsarchive.discovery.urlkey import article_key
from newsarchive.state.freshness import item_digest
from newsarchive.state.rows import ArticleState, FetchRecord, StoredRecord, parse_iso

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
        with open(path, "rb") as fh:
            iterator = ArchiveIterator(fh)
            for record in iterator:
                if record.rec_type != "response":
                    continue
                headers = record.rec_headers
                record_id = headers.get_header("WARC-Record-ID")
                http = record.http_headers
                if http is not None:
                    validators[record_id] = (
                        http.get_header("ETag"),
                        http.get_header("Last-Modified"),
                    )
                stored = StoredRecord(
                    uri=headers.get_header("WARC-Target-URI"),
                    date=headers.get_header("WARC-Date"),
                    record_id=record_id,
                    payload_digest=headers.get_header("WARC-Payload-Digest"),
                    run_id=run_id,
                    filename=path.name,
                    offset=iterator.get_record_offset(),
                    length=iterator.get_record_length(),
                )
                payloads += store.remember_original(stored)
    return payloads, validators


def fold_item_lines(
    store: FoldableStore, lines: Path, run_id: str, validators: Validators | None = None
) -> int:
    """Settle each item of a JSONL file the store does not know yet: items settled."""
    if not lines.is_file():
        return 0
    folded = 0
    for line in lines.read_text("utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        folded += fold_item(store, item, run_id, validators or {})
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
