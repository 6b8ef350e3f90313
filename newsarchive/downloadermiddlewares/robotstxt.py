"""Obey robots.txt with the spider's own robots.txt response: one fetch per host and run.

Our spiders request ``<host>/robots.txt`` themselves, first and at top priority: that request
is the one that matters. Its callback reads the ``Sitemap:`` lines (404/410: no sitemaps, the
fallbacks), its errback fails the run when robots.txt is unreadable, the accounting counts it
(role ``robots``) and the WARC holds it as a response record. Scrapy's RobotsTxtMiddleware,
seeing that request, first downloaded the same URL on its own, so every host's robots.txt was
fetched twice and archived a second time as a revisit.

This subclass lets a spider's robots.txt request through unchecked, and builds the host's
rules from its final response (after retries, redirects and decompression, as Scrapy's own
download would see it); the host's other requests wait for those rules, as they wait in Scrapy
(holding a downloader slot: the spiders give robots.txt, and so its retries, a higher priority
than any request that can wait on it, so it is never stuck in the scheduler behind them).
A robots.txt request that fails (or is dropped) leaves the host without rules, which is what
Scrapy does when its own download fails. A host whose first request is not robots.txt (the
``news`` spider with ``sitemaps = false``, ``scrapy extract``) gets Scrapy's own download.

Why not the other way round (the spider reading ``Sitemap:`` lines from the parser the
middleware built): Scrapy downloads robots.txt through ``engine.download``, outside the
scheduler and the spider, so that copy has no callback, no errback (a failure is logged and
means "no rules", it could not fail the run) and no accounting; Scrapy's ``RobotParser``
interface exposes no sitemaps; and ``rferl`` has no other request to a host to trigger it.

Enabled, like Scrapy's, by ``ROBOTSTXT_OBEY``; the add-on registers it in place of Scrapy's.
It overrides ``RobotsTxtMiddleware.robot_parser(request)`` (not underscored, not documented),
the one step Scrapy's ``process_request`` awaits for a host's rules; no private attribute is
used. :func:`check_scrapy_internals` fails at start-up, with a message, if Scrapy changes it.
"""

from __future__ import annotations

import inspect
import logging

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

from newsarchive import metakeys

logger = logging.getLogger(__name__)


def is_robots_url(request: Request) -> bool:
    """``<scheme>://<netloc>/robots.txt``, no query: the file Scrapy would fetch for the host."""
    url = urlparse_cached(request)
    return url.path == "/robots.txt" and not url.query


def check_scrapy_internals() -> None:
    """Fail loudly if Scrapy no longer gets a host's rules from ``robot_parser(request)``."""
    hook = getattr(RobotsTxtMiddleware, "robot_parser", None)
    caller = inspect.unwrap(RobotsTxtMiddleware.process_request)
    if (
        hook is None
        or not inspect.iscoroutinefunction(hook)
        or list(inspect.signature(hook).parameters) != ["self", "request"]
        or "robot_parser" not in caller.__code__.co_names
    ):
        raise RuntimeError(
            "newsarchive's SharedRobotsTxtMiddleware expects Scrapy's RobotsTxtMiddleware."
            "process_request to await self.robot_parser(request) (Scrapy 2.19); this Scrapy "
            "differs: update newsarchive/downloadermiddlewares/robotstxt.py (or remove it from "
            "newsarchive/addon.py, which brings back two robots.txt fetches per host)"
        )


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, fed by the spider's own robots.txt request."""

    def __init__(self, crawler: Crawler) -> None:
        check_scrapy_internals()
        super().__init__(crawler)  # NotConfigured unless ROBOTSTXT_OBEY
        self._parser_class: type[RobotParser] = load_object(
            crawler.settings.get("ROBOTSTXT_PARSER")
        )
        #: Hosts whose rules come from a spider's request: the rules, None (no rules), or a
        #: Deferred the host's other requests wait on.
        self._shared: dict[str, RobotParser | Deferred[RobotParser | None] | None] = {}
        #: Hosts left to Scrapy's own download (their first request was not robots.txt).
        self._delegated: set[str] = set()
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        if metakeys.ROBOTSTXT_FOR in request.meta:  # robots.txt itself, or its retry/redirect
            return None
        netloc = urlparse_cached(request).netloc
        if netloc in self._shared:
            rules = self._shared[netloc]
            if isinstance(rules, Deferred):
                return await maybe_deferred_to_future(rules)
            return rules
        if netloc not in self._delegated and is_robots_url(request):
            self._shared[netloc] = Deferred()
            request.meta[metakeys.ROBOTSTXT_FOR] = netloc
            self.crawler.stats.inc_value("robotstxt/request_count")
            return None  # robots.txt itself is always allowed
        self._delegated.add(netloc)
        return await super().robot_parser(request)

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        netloc = request.meta.get(metakeys.ROBOTSTXT_FOR)
        if netloc is not None and isinstance(self._shared.get(netloc), Deferred):
            stats = self.crawler.stats
            stats.inc_value("robotstxt/response_count")
            stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            rules = build_from_crawler(self._parser_class, self.crawler, response.body)
            await self.crawler.signals.send_catch_log_async(
                signal=signals.robots_parsed, robotparser=rules, request=request
            )
            self._settle(netloc, rules)
        return response

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        netloc = request.meta.get(metakeys.ROBOTSTXT_FOR)
        if netloc is not None and isinstance(self._shared.get(netloc), Deferred):
            if not isinstance(exception, IgnoreRequest):
                self.crawler.stats.inc_value(f"robotstxt/exception_count/{type(exception)}")
            logger.info("robots.txt of %s unreadable (%r): no rules for it", netloc, exception)
            self._settle(netloc, None)
        # The exception goes on to the spider's errback.

    def request_dropped(self, request: Request, spider: Spider | None = None) -> None:
        """A robots.txt redirect the scheduler drops would otherwise hold its host for ever."""
        netloc = request.meta.get(metakeys.ROBOTSTXT_FOR)
        if netloc is not None and isinstance(self._shared.get(netloc), Deferred):
            self._settle(netloc, None)

    def _settle(self, netloc: str, rules: RobotParser | None) -> None:
        waiting = self._shared[netloc]
        self._shared[netloc] = rules
        assert isinstance(waiting, Deferred)
        waiting.callback(rules)
