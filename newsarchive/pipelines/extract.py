"""Turn an archived article response (:class:`FetchedPage`) into an :class:`ArticleItem`.

The pipeline only adapts: the work is done by :func:`newsarchive.extraction.extract`, the same
function ``scrapy extract`` and the benchmarks call, so all three agree by construction.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from newsarchive import default_settings as defaults
from newsarchive.extraction import extract, is_article
from newsarchive.items import ArticleItem, Extractor, FetchedPage, LegalNotice

logger = logging.getLogger(__name__)
_STAT_SAFE = re.compile(r"[^a-z0-9_-]+")


def build_item(page: FetchedPage, fields: dict[str, Any], run_id: str | None) -> ArticleItem:
    """Merge what the crawl knows (URL, status, provenance) with what extraction found."""
    notice = fields.get("legal_notice")
    extractor = fields.get("extractor")
    return ArticleItem(
        url=page.url,
        site=page.site,
        article_id=fields.get("article_id") or page.article_id,
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
        publication=page.hints.get("publication"),
        discovered_from=page.hints.get("discovered_from"),
        fetched_at=page.fetched_at,
        http_status=page.http_status,
        warc=page.warc,
        extractor=Extractor(**extractor) if extractor else None,
        run_id=run_id,
    )


class ExtractPipeline:
    """Extract text and metadata from article pages; drop (and count) non-articles."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id = crawler.settings.get("NEWSARCHIVE_RUN_ID") or None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        if not crawler.settings.getbool(
            "NEWSARCHIVE_EXTRACT_ENABLED", defaults.NEWSARCHIVE_EXTRACT_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_EXTRACT_ENABLED is false")
        return cls(crawler)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        stats = self.crawler.stats
        html = item.body.decode(item.encoding or "utf-8", errors="replace")
        ok, reason = is_article(html, item.url)
        if not ok:
            key = _STAT_SAFE.sub("_", reason.lower())[:40] or "unknown"
            stats.inc_value(f"newsarchive/extract/not_article/{key}")
            raise DropItem(f"not an article ({reason}): {item.url}", log_level="INFO")
        try:
            fields = extract(html, item.url, hints=item.hints)
        except Exception as exc:
            stats.inc_value("newsarchive/extract/failed")
            logger.error("Extraction failed for %s: %r", item.url, exc)
            raise DropItem(f"extraction failed ({exc!r}): {item.url}") from exc
        article = build_item(item, fields, self.run_id)
        stats.inc_value("newsarchive/extract/articles")
        if article.legal_notice is not None:
            stats.inc_value(f"newsarchive/extract/notice/{article.legal_notice.kind}")
        return article
