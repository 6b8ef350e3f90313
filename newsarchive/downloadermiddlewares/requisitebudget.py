"""Keep page requisites bounded and in scope on their way to the network.

The requisites spider middleware (``newsarchive/spidermiddlewares/requisites.py``) decides what
a page needs; this one sees each of those requests as it leaves for the downloader, including
redirects (which carry the same meta): it refuses a redirect out of the requisite scope (to a
tracker, say), stops fetching for a page whose requisites already used its byte budget, caps
each download at what is left of it, and stops any audio or video body at its headers.

Its refusals are :class:`RequisiteRefused` (an ``IgnoreRequest``); the requisites errback
counts them as skips with their reason, not as errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured, StopDownload
from scrapy.http import Headers, Response
from scrapy.settings import BaseSettings

from newsarchive import default_settings as defaults
from newsarchive import metakeys
from newsarchive.arguments import requisites_wanted
from newsarchive.discovery.assethosts import RequisiteScope, denied_hosts

logger = logging.getLogger(__name__)

BUDGET_KEY = metakeys.REQUISITE_BUDGET
#: Content types that are never requisites (a player's stream behind an innocent-looking URL).
MEDIA_TYPES = ("video/", "audio/", "application/vnd.apple.mpegurl", "application/x-mpegurl",
               "application/dash+xml")  # fmt: skip


class RequisiteRefused(IgnoreRequest):
    """A requisite not fetched, for ``reason`` (a skip, not an error)."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"Page requisite not fetched ({reason}): {url}")
        self.reason = reason


@dataclass
class PageBudget:
    """What one article page may still spend on requisites (shared by all its requests)."""

    page: str
    count_left: int
    bytes_left: int


@dataclass(frozen=True)
class RequisitesConfig:
    """The requisite settings (one config for the spider and the downloader middleware)."""

    scope: RequisiteScope
    scripts: bool
    max_per_page: int
    maxsize: int
    page_maxsize: int

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RequisitesConfig:
        def get(name: str):
            return settings.get(name, getattr(defaults, name))

        return cls(
            scope=RequisiteScope(
                extra_hosts=tuple(settings.getlist("NEWSARCHIVE_REQUISITES_HOSTS")),
                deny=(*denied_hosts(), *settings.getlist("NEWSARCHIVE_REQUISITES_DENY")),
            ),
            scripts=settings.getbool(
                "NEWSARCHIVE_REQUISITES_SCRIPTS", defaults.NEWSARCHIVE_REQUISITES_SCRIPTS
            ),
            max_per_page=int(get("NEWSARCHIVE_REQUISITES_MAX_PER_PAGE")),
            maxsize=int(get("NEWSARCHIVE_REQUISITES_MAXSIZE")),
            page_maxsize=int(get("NEWSARCHIVE_REQUISITES_PAGE_MAXSIZE")),
        )


class RequisiteBudgetMiddleware:
    """Downloader middleware: scope, page byte budget and size cap of requisite requests."""

    def __init__(self, crawler: Crawler, config: RequisitesConfig) -> None:
        self.crawler = crawler
        self.config = config

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequisiteBudgetMiddleware:
        if not requisites_wanted(crawler):
            # The default: said at DEBUG (a NotConfigured message is a WARNING in every log).
            logger.debug("Page requisites off (-a requisites=1 turns them on)")
            raise NotConfigured
        middleware = cls(crawler, RequisitesConfig.from_settings(crawler.settings))
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        return middleware

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        budget = request.meta.get(BUDGET_KEY)
        if budget is None:
            return
        stats = self.crawler.stats
        reason = self.config.scope.verdict(request.url, budget.page)
        if reason is not None:  # only a redirect can get here out of scope
            stats.inc_value(f"newsarchive/requisites/refused/{reason}")
            raise RequisiteRefused(reason, request.url)
        if budget.bytes_left <= 0:
            stats.inc_value("newsarchive/requisites/refused/requisite_page_maxsize")
            raise RequisiteRefused("requisite_page_maxsize", request.url)
        request.meta["download_maxsize"] = min(self.config.maxsize, budget.bytes_left)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        budget = request.meta.get(BUDGET_KEY)
        if budget is not None:
            budget.bytes_left -= len(response.body)
        return response

    def headers_received(
        self, headers: Headers, body_length: int, request: Request, spider: Spider
    ) -> None:
        if BUDGET_KEY not in request.meta:
            return
        ctype = (headers.get(b"Content-Type") or b"").decode("latin-1").strip().lower()
        if ctype.startswith(MEDIA_TYPES):
            self.crawler.stats.inc_value("newsarchive/requisites/refused/requisite_media")
            raise StopDownload(fail=True)
