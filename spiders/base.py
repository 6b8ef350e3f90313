"""What every newsarchive spider does the same way: clean article URLs, decode pages honestly,
hand archived responses to the pipeline, and report failures.

``rferl`` and ``news`` differ only in discovery; from the article request on they must behave
identically (same item, same accounting), so that part lives here once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from newsarchive import default_settings
from newsarchive.discovery.dates import iso_utc
from newsarchive.discovery.urlkey import TRACKING_PARAMS, strip_tracking  # noqa: F401 - re-exported
from newsarchive.downloadermiddlewares.warc import FETCHED_AT_KEY, META_KEY
from newsarchive.extensions.errorlog import classify, report_failure
from newsarchive.extensions.statestore import state_for
from newsarchive.extraction.document import real_encoding
from newsarchive.items import FetchedPage, WarcRef
from newsarchive.runstatus import mark_failed
from newsarchive.state.freshness import refetch_reason
from newsarchive.state.rows import ArticleState

#: Spider-argument spellings of yes and no (``-a full=1``, ``-a feeds=off``).
_YES = ("1", "true", "yes", "on")
_NO = ("0", "false", "no", "off")


def spider_flag(value: str, default: bool) -> bool:
    """A yes/no spider argument; any other spelling keeps ``default``."""
    word = str(value).strip().lower()
    if word in _YES:
        return True
    return False if word in _NO else default


def body_encoding(response: TextResponse) -> str:
    """The encoding to hand to extraction (see ``real_encoding``)."""
    return real_encoding(response.body, response.encoding)


def fetched_page(response: TextResponse, article_id: str | None) -> FetchedPage:
    """The hand-over to the extraction pipeline: the page plus where the WARC stored it."""
    location = response.meta.get(META_KEY)
    return FetchedPage(
        url=response.url,
        site=urlsplit(response.url).hostname or "",
        body=response.body,
        encoding=body_encoding(response),
        http_status=response.status,
        fetched_at=iso_utc(response.meta.get(FETCHED_AT_KEY)) or "",
        article_id=article_id,
        warc=WarcRef(
            filename=location.filename,
            offset=location.offset,
            length=location.length,
            record_id=location.record_id,
            payload_digest=location.payload_digest or "",
        )
        if location is not None
        else None,
        hints=dict(response.meta.get("newsarchive_hints") or {}),
    )


class ArchiveSpiderMixin:
    """Article callback and failure reporting shared by the spiders (needs ``scrapy.Spider``)."""

    crawler: scrapy.crawler.Crawler
    logger: scrapy.utils.log.SpiderLoggerAdapter
    settings: scrapy.settings.BaseSettings
    #: ``-a full=1``: ignore what earlier runs fetched.
    full: bool = False

    @property
    def full_recrawl(self) -> bool:
        """``-a full=1`` or ``NEWSARCHIVE_FULL_RECRAWL``: ignore what earlier runs fetched."""
        return self.full or self.settings.getbool(
            "NEWSARCHIVE_FULL_RECRAWL", default_settings.NEWSARCHIVE_FULL_RECRAWL
        )

    def known_article(self, key: str) -> ArticleState | None:
        """What the state store knows about ``key`` (None: new, no state, or a full re-crawl)."""
        store = state_for(self.crawler)
        if store is None or self.full_recrawl:
            return None
        return store.article(key)

    def last_fetch_stands(
        self, known: ArticleState | None, lastmod: datetime | None, published: datetime | None
    ) -> bool:
        """A known article that neither its listing's lastmod nor the refresh window says to
        re-check (``newsarchive.state.refetch_reason``)."""
        if known is None:
            return False
        hours = self.settings.getfloat(
            "NEWSARCHIVE_REFRESH_WINDOW", default_settings.NEWSARCHIVE_REFRESH_WINDOW
        )
        reason = refetch_reason(
            known,
            lastmod=lastmod,
            published=published,
            now=datetime.now(UTC),
            refresh_window=timedelta(hours=hours),
        )
        return reason is None

    def article_id_for(self, response: Response) -> str | None:
        """The id the state store knows the article by (Pangea id; None elsewhere)."""
        return response.meta.get("newsarchive_article_id")

    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        if response.status == 304:  # archived as a revisit, settled by the conditional mw
            return
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("newsarchive/fetch/not_html")
            self.logger.warning("Not an HTML page, archived only: %s", response.url)
            return
        yield fetched_page(response, self.article_id_for(response))

    def discovery_failed(self, failure) -> None:
        self._failed(failure, "discovery")

    def fetch_failed(self, failure) -> None:
        self._failed(failure, "fetch")

    def _failed(self, failure, phase: str) -> None:
        kind, reason = classify(failure)
        if kind != "error":  # robots.txt / off-scope refusals are skips, counted by Scrapy
            self.logger.info("Not fetched (%s): %s", reason, failure.request.url)
        else:
            self.crawler.stats.inc_value(f"newsarchive/{phase}/failed/{reason}")
            role = str(failure.request.meta.get("newsarchive_role", ""))
            if phase == "discovery" and self.is_essential(role):
                mark_failed(self.crawler, f"{role.split(':')[0]}_unreadable")
        report_failure(self.crawler, failure, phase)  # errors.jsonl, log line, accounting

    def is_essential(self, role: str) -> bool:
        """Discovery requests whose failure fails the run (robots.txt and sitemaps)."""
        return role == "robots" or role.startswith("sitemap")
