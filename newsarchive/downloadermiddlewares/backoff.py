"""Retry with exponential backoff that honours ``Retry-After``, without blocking the reactor.

Scrapy's RetryMiddleware retries at once, which hammers a server that just said 503 or 429.
This subclass keeps its decisions (``RETRY_TIMES``, ``RETRY_HTTP_CODES``, ``RETRY_EXCEPTIONS``,
``dont_retry``; 404 is never retried) and only waits before handing the retry back:
``min(max(Retry-After, base * 2**(attempt-1)), max)`` seconds, awaited on the reactor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task

from newsarchive import default_settings as defaults
from newsarchive import metakeys

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackoffConfig:
    """Base and cap of the exponential delay, in seconds."""

    base: float
    max_delay: float

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        wanted = self.base * 2 ** max(attempt - 1, 0)
        if retry_after is not None:
            wanted = max(wanted, retry_after)
        return max(0.0, min(wanted, self.max_delay))


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware whose retries wait, exponentially and as the server asks."""

    def __init__(self, settings, config: BackoffConfig) -> None:
        super().__init__(settings)
        self.config = config

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_BACKOFF_ENABLED", defaults.NEWSARCHIVE_BACKOFF_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_BACKOFF_ENABLED is false")
        config = BackoffConfig(
            base=settings.getfloat("NEWSARCHIVE_BACKOFF_BASE", defaults.NEWSARCHIVE_BACKOFF_BASE),
            max_delay=settings.getfloat(
                "NEWSARCHIVE_BACKOFF_MAX_DELAY", defaults.NEWSARCHIVE_BACKOFF_MAX_DELAY
            ),
        )
        middleware = cls(settings, config)
        middleware.crawler = crawler
        return middleware

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, parse_retry_after(response.headers.get("Retry-After")))
        return result

    async def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, None)
        return result

    async def _wait(self, retry: Request, retry_after: float | None) -> None:
        attempt = int(retry.meta.get("retry_times", 1))
        delay = retry.meta.get(metakeys.BACKOFF_DELAY)
        if delay is None:
            delay = self.config.delay(attempt, retry_after)
        self.crawler.stats.inc_value("newsarchive/backoff/retries")
        self.crawler.stats.inc_value("newsarchive/backoff/seconds", round(float(delay), 3))
        if retry_after is not None:
            self.crawler.stats.inc_value("newsarchive/backoff/retry_after")
        logger.info("Retry %d of %s in %.2f s", attempt, retry.url, delay)
        if delay > 0:
            # Imported here: importing the reactor at module import would install one.
            from twisted.internet import reactor

            await maybe_deferred_to_future(task.deferLater(reactor, float(delay), lambda: None))
