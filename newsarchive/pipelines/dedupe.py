"""Emit an article only when it says something new; settle each fetch in the state store.

The item digest (:func:`newsarchive.state.item_digest`) covers what the article says, not where
or when it was fetched. Same digest as the stored one: the item is dropped (counted
``unchanged``). Otherwise it leaves with ``version`` (1 for a new article) and, when changed,
``previous_digest`` and ``changes`` (which fields, how much text: :mod:`newsarchive.changes`,
against the fingerprint the state keeps of the last version). An article recorded as removed
that answers again is a new version even when it says what it said before
(``changes.restored``). Changed and restored articles get a ``changes.jsonl`` line once their
item line is written (:data:`newsarchive.signals.article_changed`).

Articles are keyed by ``article_key`` (the Pangea id, else the normalised-URL key), so any
site's articles are versioned. When the listed URL's key differs from the item's (a redirect, a
Pangea id found only in the page) the store learns the alias, so the next run's discovery and
conditional request find the article.

The state is written only from the ``item_scraped`` / ``item_dropped`` signals, i.e. after the
feed exporter has written the line: a run killed earlier has not settled the fetch, and the
next run fetches the article again (the payload, already archived, becomes a revisit record).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive import default_settings as defaults
from newsarchive import metakeys
from newsarchive.archive.records import warc_date
from newsarchive.changes import fingerprint, summarize
from newsarchive.discovery.dates import iso_utc
from newsarchive.discovery.urlkey import article_key
from newsarchive.exceptions import UnchangedArticle
from newsarchive.items import ArticleItem, FetchedPage, ItemChanges, TextChanges, item_dict
from newsarchive.signals import article_changed
from newsarchive.state.freshness import item_digest
from newsarchive.state.rows import ArticleState, FetchRecord, StoredRecord, parse_iso
from newsarchive.state.session import state_for
from newsarchive.state.store import StateStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DedupeConfig:
    run_id: str


class DedupePipeline:
    """Version articles against the state store and drop the unchanged ones."""

    def __init__(self, crawler: Crawler, config: DedupeConfig) -> None:
        self.crawler = crawler
        self.config = config
        #: Item digests passed on in this run, by key: two listed URLs that turn out to be one
        #: article must not both leave as "new" while the first is not settled yet.
        self._passed: dict[str, str] = {}
        #: The stored state a changed item replaces, by key, until its line is written.
        self._replaced: dict[str, ArticleState] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_DEDUPE_ENABLED", defaults.NEWSARCHIVE_DEDUPE_ENABLED):
            raise NotConfigured("NEWSARCHIVE_DEDUPE_ENABLED is false")
        pipeline = cls(crawler, DedupeConfig(run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run"))
        # Connected after the feed exporter (extensions are built before pipelines), so the
        # line is written before the fetch is settled.
        crawler.signals.connect(pipeline.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    @property
    def store(self) -> StateStore | None:
        return state_for(self.crawler)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        store = self.store
        if store is None or not isinstance(item, ArticleItem):
            return item
        key = item.article_key = item.article_key or article_key(item.url, item.article_id)
        stats = self.crawler.stats
        content = item_dict(item)
        digest = item_digest(content)
        if self._passed.get(key) == digest:
            stats.inc_value("newsarchive/dedupe/unchanged")
            raise UnchangedArticle(f"already emitted in this run: {item.url}", log_level="DEBUG")
        known = store.article(key)
        restored = known is not None and known.removed is not None
        if known is not None and known.item_digest == digest and not restored:
            stats.inc_value("newsarchive/dedupe/unchanged")
            raise UnchangedArticle(
                f"unchanged since version {known.version}: {item.url}", log_level="DEBUG"
            )
        if known is not None and known.item_digest is not None:
            item.version = known.version + 1
            item.previous_digest = known.item_digest
            item.changes = _changes(summarize(known.fingerprint, content, restored=restored))
            self._replaced[key] = known
            stats.inc_value(
                "newsarchive/dedupe/restored" if restored else "newsarchive/dedupe/changed"
            )
        else:
            item.version = (known.version if known is not None else 0) + 1
            stats.inc_value("newsarchive/dedupe/new")
        self._passed[key] = digest
        return item

    # -- settling ----------------------------------------------------------------------------
    def item_scraped(self, item: Any, response: Response) -> None:
        if isinstance(item, ArticleItem) and item.version is not None:
            key = _key(item)
            self._settle(key, response, item=item)
            replaced = self._replaced.pop(key or "", None)
            if replaced is not None:
                self.crawler.signals.send_catch_log(
                    article_changed, line=_change_line(replaced, item, self.config.run_id)
                )

    def item_dropped(self, item: Any, response: Response, exception: BaseException) -> None:
        if isinstance(item, ArticleItem | FetchedPage):
            self._settle(_key(item), response, item=None)

    def _settle(self, article_id: str | None, response: Response, item: ArticleItem | None) -> None:
        store = self.store
        if store is None or not article_id or response is None:
            return
        meta = response.meta
        listed = metakeys.request_key(meta)
        if listed is not None and listed != article_id:
            store.add_alias(listed, article_id)
        location = meta.get(metakeys.WARC_RECORD)
        fetched_at = meta.get(metakeys.FETCHED_AT)
        if location is None or fetched_at is None:
            return  # not archived: nothing to refer a later revisit to
        digest = location.payload_digest
        record: StoredRecord | None
        if location.record_type == "response":
            record = StoredRecord(
                uri=response.url,
                date=warc_date(fetched_at),
                record_id=location.record_id,
                payload_digest=digest,
                run_id=self.config.run_id,
                filename=location.filename,
                offset=location.offset,
                length=location.length,
            )
        else:
            record = store.original(digest) if digest else None
        fetch = FetchRecord(
            url=response.url,
            fetched_at=fetched_at,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            payload_digest=digest,
            record=record,
            run_id=self.config.run_id,
        )
        hints = meta.get(metakeys.HINTS) or None
        if item is None:
            store.record_fetch(article_id, fetch, hints=hints)
            return
        content = item_dict(item)
        store.record_fetch(
            article_id,
            fetch,
            item_digest=item_digest(content),
            version=item.version,
            canonical_url=item.canonical_url,
            published=parse_iso(item.published),
            fingerprint=fingerprint(content),
            hints=hints,
        )


def _changes(summary: dict[str, Any] | None) -> ItemChanges | None:
    if summary is None:
        return None
    text = TextChanges(**summary["text"]) if summary["text"] is not None else None
    return ItemChanges(fields=summary["fields"], text=text, restored=summary["restored"])


def _change_line(replaced: ArticleState, item: ArticleItem, run_id: str) -> dict[str, Any]:
    """The ``changes.jsonl`` line of a changed (or restored) article."""
    new_record = None
    if item.warc is not None:
        new_record = {"run_id": run_id, **ItemAdapter(item.warc).asdict(), "uri": item.url}
    changes = ItemAdapter(item.changes).asdict() if item.changes is not None else None
    return {
        "kind": "restored" if replaced.removed is not None else "changed",
        "article_key": item.article_key,
        "url": item.url,
        "old_version": replaced.version,
        "new_version": item.version,
        "old_record": asdict(replaced.record) if replaced.record is not None else None,
        "new_record": new_record,
        "changes": changes,
        "reason": replaced.removed_reason,
        "fetched_at": iso_utc(parse_iso(item.fetched_at)) if item.fetched_at else None,
    }


def _key(item: ArticleItem | FetchedPage) -> str | None:
    """The article key of an item, or of a page the pipeline dropped (not an article)."""
    if isinstance(item, ArticleItem) and item.article_key:
        return item.article_key
    return article_key(item.url, item.article_id) if item.url else None


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
