"""What every newsarchive spider does the same way: request listed articles (clean the URL,
one request per article key, skip what the state store says still stands), decode pages
honestly, hand archived responses to the pipeline, and report failures.

``rferl`` and ``news`` differ only in discovery; from the article request on they must behave
identically (same item, same accounting), so that part lives here once. A spider says what a
listed URL is through :meth:`ArchiveSpiderMixin.article_target`; everything after that is
:meth:`ArchiveSpiderMixin.article_request`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urldefrag

import scrapy
from scrapy.http import Response, TextResponse

from newsarchive import default_settings, metakeys
from newsarchive.discovery.hints import merge_listing
from newsarchive.discovery.sitemaps import SitemapEntry
from newsarchive.discovery.urlkey import strip_tracking
from newsarchive.extensions.accounting import not_requested
from newsarchive.extensions.errorlog import classify, report_failure
from newsarchive.extensions.statestore import SITE_STAT_PREFIX
from newsarchive.items import FetchedPage
from newsarchive.pages import article_page
from newsarchive.runstatus import mark_failed
from newsarchive.state.freshness import refetch_reason
from newsarchive.state.rows import ArticleState
from newsarchive.state.session import state_for

from .recheck import RecheckMixin


@dataclass(frozen=True)
class ArticleTarget:
    """What a spider says about a listed URL it wants: the rest is the shared article path."""

    key: str
    """The article key (:func:`newsarchive.discovery.urlkey.article_key`): one request per key."""
    host: str
    """The site whose discovery count (``newsarchive/discovery/site/<host>``) it adds to."""
    since: date | None
    """``-a since``: an entry published (else last modified) before that day is skipped."""
    callback: Callable[[Response], Any]
    meta: dict[str, Any] = field(default_factory=dict)
    """The spider's own request meta (its site, depth, Pangea id)."""
    follows_links: bool = False
    """Its links are to be followed: a known page that never was an article (a section page)
    is then read again, in full, since new articles are found through it."""


class ArchiveSpiderMixin(RecheckMixin):
    """Article requests, article callback and failure reporting shared by the spiders (needs
    ``scrapy.Spider``)."""

    crawler: scrapy.crawler.Crawler
    logger: scrapy.utils.log.SpiderLoggerAdapter
    settings: scrapy.settings.BaseSettings
    #: ``-a full=1``: ignore what earlier runs fetched.
    full: bool = False

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        """Read the ``-a`` arguments as the spider will, raising
        :class:`~newsarchive.arguments.ArgumentError`: ``scrapy crawl`` calls this before the
        crawl starts, so a bad argument is one line and exit status 2, not a traceback."""
        cls(**kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Discovery hints by article key: one request per article, however often listed.
        self._hints: dict[str, dict[str, Any]] = {}
        #: Known articles skipped at their first listing (a later listing may still want them).
        self._known_skipped: set[str] = set()

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
        """A known article that neither its listing's lastmod, the refresh window
        (``newsarchive.state.refetch_reason``) nor this run's re-check plan says to re-check."""
        if known is None or self.take_recheck(known):
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

    # -- the article path ----------------------------------------------------------------------
    def not_requested(self, url: str, reason: str, source: str | None = None) -> None:
        """Count ``newsarchive/discovery/<reason>`` and account ``url`` as not requested
        (listed on ``source``)."""
        self.crawler.stats.inc_value(f"newsarchive/discovery/{reason}")
        not_requested(self.crawler, url, reason, source)

    def article_target(self, url: str, **context: Any) -> ArticleTarget | str:
        """What the listed ``url`` is to this spider, or why it is not requested (the reason,
        counted as ``newsarchive/discovery/<reason>``: ``offsite_url``, ``not_article_url``)."""
        raise NotImplementedError

    def article_request(
        self, entry: SitemapEntry, source: str, **context: Any
    ) -> Iterator[scrapy.Request]:
        """The request for a listed article, unless it is out of scope, before ``since``,
        already requested, or known and not due (each counted and accounted).

        ``source`` is the listing (sitemap, feed, page) it was found on; ``context`` goes to
        :meth:`article_target`.
        """
        stats = self.crawler.stats
        url = urldefrag(strip_tracking(entry.loc))[0]  # ?utm_* and #fragment variants are one URL
        entry = replace(entry, loc=url)
        stats.inc_value("newsarchive/discovery/urls")
        target = self.article_target(url, **context)
        if isinstance(target, str):
            self.not_requested(url, target, source)
            return
        news = entry.news
        published = news.publication_date if news else None
        if target.since is not None:
            moment = published or entry.lastmod
            if moment is not None and moment.date() < target.since:
                self.not_requested(url, "before_since", source)
                return
        key = target.key
        hints = self._hints.get(key)
        is_new = hints is None
        # Listings answer in any order: the most specific one is named (merge_listing), so that
        # a live crawl and its replay agree on where an article was found.
        hints = self._hints[key] = merge_listing(hints, source, entry)
        # A known article skipped at its first listing is requested after all when a later
        # listing (say _latest after _news) has a lastmod newer than our last fetch.
        if not is_new and key not in self._known_skipped:
            self.not_requested(url, "duplicate_article", source)
            return
        if is_new:
            stats.inc_value(SITE_STAT_PREFIX + target.host)
        known = self.known_article(key)
        hub = target.follows_links and known is not None and known.item_digest is None
        if not hub and self.last_fetch_stands(known, entry.lastmod, published):
            if is_new:
                self._known_skipped.add(key)
                self.not_requested(url, "known_skipped", source)
            else:
                self.not_requested(url, "duplicate_article", source)
            return
        if not is_new:
            self._known_skipped.discard(key)
            stats.inc_value("newsarchive/discovery/known_skipped", -1)
        stats.inc_value("newsarchive/discovery/articles")
        maxsize = self.settings.getint(
            "NEWSARCHIVE_ARTICLE_MAXSIZE", default_settings.NEWSARCHIVE_ARTICLE_MAXSIZE
        )
        meta = {
            metakeys.HINTS: hints,
            metakeys.ARTICLE_KEY: key,
            **target.meta,
            "download_maxsize": maxsize,  # also caps decompression (bombs)
        }
        if hub:
            meta[metakeys.CONDITIONAL] = False  # a 304 has no links to follow
            stats.inc_value("newsarchive/discovery/hub_reread")
        yield scrapy.Request(url, callback=target.callback, errback=self.fetch_failed, meta=meta)

    def article_id_for(self, response: Response) -> str | None:
        """The id the state store knows the article by (Pangea id; None elsewhere)."""
        return response.meta.get(metakeys.ARTICLE_ID)

    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        if response.meta.get(metakeys.REMOVED):  # gone: archived and recorded by the removal mw
            return
        if response.status == 304:  # archived as a revisit, settled by the conditional mw
            return
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("newsarchive/fetch/not_html")
            self.logger.warning("Not an HTML page, archived only: %s", response.url)
            return
        yield article_page(response, self.article_id_for(response))

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
            role = str(failure.request.meta.get(metakeys.ROLE, ""))
            if phase == "discovery" and self.is_essential(role):
                mark_failed(self.crawler, f"{role.split(':')[0]}_unreadable")
        report_failure(self.crawler, failure, phase)  # errors.jsonl, log line, accounting

    def is_essential(self, role: str) -> bool:
        """Discovery requests whose failure fails the run (robots.txt and sitemaps)."""
        return role == "robots" or role.startswith("sitemap")
