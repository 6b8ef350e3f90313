"""Turn an archived article response (:class:`FetchedPage`) into an :class:`ArticleItem`.

The pipeline only adapts: the work is done by :func:`newsarchive.extraction.extract`, the same
function ``scrapy extract`` and the benchmarks call, so all three agree by construction. It runs
in worker processes (:mod:`newsarchive.extraction.bounded`), bounded in time and memory, and the
pipeline awaits the result, so the crawl keeps downloading while pages are being extracted.

It also keeps each site's memory (:class:`~newsarchive.state.templates.TemplateMemory`): a page
is extracted with its site's template as learned so far, its blocks are learned, and the blocks
that became template with it leave its text too (``NEWSARCHIVE_TEMPLATE_*``, docs/notices.md).
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import is_asyncio_available
from twisted.internet.threads import deferToThread

from newsarchive import default_settings as defaults
from newsarchive.discovery.urlkey import article_key
from newsarchive.extraction.bounded import (
    BoundedExtractor,
    ExtractionFailed,
    Outcome,
    default_workers,
)
from newsarchive.extraction.template import PageBlocks, TemplateRule
from newsarchive.items import ArticleItem, Extractor, FetchedPage, LegalNotice
from newsarchive.state.session import state_for
from newsarchive.state.templates import TemplateMemory

logger = logging.getLogger(__name__)
_STAT_SAFE = re.compile(r"[^a-z0-9_-]+")


def build_item(page: FetchedPage, fields: dict[str, Any], run_id: str | None) -> ArticleItem:
    """Merge what the crawl knows (URL, status, provenance) with what extraction found."""
    notice = fields.get("legal_notice")
    extractor = fields.get("extractor")
    aid = fields.get("article_id") or page.article_id
    return ArticleItem(
        url=page.url,
        site=page.site,
        article_id=aid,
        article_key=article_key(page.url, aid),
        canonical_url=fields.get("canonical_url"),
        language=fields.get("language"),
        title=fields.get("title"),
        description=fields.get("description"),
        authors=list(fields.get("authors") or []),
        published=fields.get("published"),
        modified=fields.get("modified"),
        section=fields.get("section"),
        tags=list(fields.get("tags") or []),
        image=fields.get("image"),
        text=fields.get("text") or "",
        legal_notice=LegalNotice(**notice) if notice else None,
        legal_notices=[LegalNotice(**n) for n in fields.get("legal_notices") or []],
        accessible_for_free=fields.get("accessible_for_free"),
        publication=page.hints.get("publication"),
        discovered_from=page.hints.get("discovered_from"),
        fetched_at=page.fetched_at,
        http_status=page.http_status,
        warc=page.warc,
        extractor=Extractor(**extractor) if extractor else None,
        run_id=run_id,
    )


class ExtractionDropped(DropItem):
    """An article page whose extraction failed; ``reason`` goes into ``errors.jsonl``."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ExtractConfig:
    """How pages are extracted: ``workers`` processes (0: in the crawl's own process)."""

    workers: int
    timeout: float
    max_memory: int
    template: TemplateRule | None = None
    """The template rule, or None when site templates are not learned."""

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ExtractConfig:
        workers = settings.get("NEWSARCHIVE_EXTRACT_WORKERS", defaults.NEWSARCHIVE_EXTRACT_WORKERS)
        return cls(
            workers=default_workers() if workers in (None, "") else int(workers),
            timeout=settings.getfloat(
                "NEWSARCHIVE_EXTRACT_TIMEOUT", defaults.NEWSARCHIVE_EXTRACT_TIMEOUT
            ),
            max_memory=settings.getint(
                "NEWSARCHIVE_EXTRACT_MAX_MEMORY", defaults.NEWSARCHIVE_EXTRACT_MAX_MEMORY
            ),
            template=_template_rule(settings),
        )


def _template_rule(settings: BaseSettings) -> TemplateRule | None:
    if not settings.getbool("NEWSARCHIVE_TEMPLATE_ENABLED", defaults.NEWSARCHIVE_TEMPLATE_ENABLED):
        return None
    return TemplateRule(
        min_pages=settings.getint(
            "NEWSARCHIVE_TEMPLATE_MIN_PAGES", defaults.NEWSARCHIVE_TEMPLATE_MIN_PAGES
        ),
        min_share=settings.getfloat(
            "NEWSARCHIVE_TEMPLATE_MIN_SHARE", defaults.NEWSARCHIVE_TEMPLATE_MIN_SHARE
        ),
    )


async def _wait(future: Future[Outcome]) -> Outcome:
    """Await a worker's answer without blocking the reactor (asyncio or not)."""
    if is_asyncio_available():
        return await asyncio.wrap_future(future)
    return await deferToThread(future.result)


class ExtractPipeline:
    """Extract text and metadata from article pages; drop (and count) non-articles."""

    def __init__(self, crawler: Crawler, config: ExtractConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.run_id = crawler.settings.get("NEWSARCHIVE_RUN_ID") or None
        self.extractor: BoundedExtractor | None = None
        self.memory: TemplateMemory | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        if not crawler.settings.getbool(
            "NEWSARCHIVE_EXTRACT_ENABLED", defaults.NEWSARCHIVE_EXTRACT_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_EXTRACT_ENABLED is false")
        return cls(crawler, ExtractConfig.from_settings(crawler.settings))

    def open_spider(self, spider: Spider | None = None) -> None:
        config = self.config
        self.extractor = BoundedExtractor(config.workers, config.timeout, config.max_memory)
        if config.template is not None:
            self.memory = TemplateMemory(state_for(self.crawler), config.template)

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.extractor is not None:
            self.extractor.close()
            self.crawler.stats.set_value(
                "newsarchive/extract/workers_replaced", self.extractor.replaced
            )
            self.extractor = None
        if self.memory is not None:
            self.memory.flush()
            self.crawler.stats.set_value(
                "newsarchive/template/blocks", self.memory.template_blocks()
            )
            self.memory = None

    def _learn(self, item: FetchedPage, article: ArticleItem, blocks: Any) -> None:
        """Learn the page's blocks; strip the blocks that are template now from its text."""
        if self.memory is None or not isinstance(blocks, PageBlocks):
            return
        stats = self.crawler.stats
        key = article.article_key or item.url
        if not self.memory.learned(item.site, key):
            stats.inc_value("newsarchive/template/pages_learned")
        article.text, removed = self.memory.apply(item.site, key, blocks, article.text)
        if removed:
            stats.inc_value("newsarchive/template/blocks_removed", removed)

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        if self.extractor is None:
            raise RuntimeError("ExtractPipeline.process_item() before open_spider()")
        stats = self.crawler.stats
        template = self.memory.template(item.site) if self.memory is not None else None
        future = self.extractor.submit(
            item.body, item.encoding, item.url, item.hints, template=template
        )
        try:
            outcome = await _wait(future)
        except ExtractionFailed as exc:
            stats.inc_value("newsarchive/extract/failed")
            raise ExtractionDropped(
                f"extraction failed ({exc.reason}): {item.url}: {exc.detail}", exc.reason
            ) from exc
        if not outcome.is_article:
            key = _STAT_SAFE.sub("_", outcome.reason.lower())[:40] or "unknown"
            stats.inc_value(f"newsarchive/extract/not_article/{key}")
            raise DropItem(f"not an article ({outcome.reason}): {item.url}", log_level="INFO")
        fields = dict(outcome.fields)
        blocks = fields.pop("page_blocks", None)
        article = build_item(item, fields, self.run_id)
        self._learn(item, article, blocks)
        stats.inc_value("newsarchive/extract/articles")
        if article.legal_notice is not None:
            stats.inc_value(f"newsarchive/extract/notice/{article.legal_notice.kind}")
        return article
