"""A progress line in the crawl log at Scrapy's LogStats rhythm, for runs that last hours.

Scrapy logs pages and items per minute; a backfill also wants to know what was written, how much
is left and when it will end. Every ``LOGSTATS_INTERVAL`` seconds this logs (through Scrapy's
logging, so a cron job's mail stays empty)::

    Progress: 1,234 articles written, 3.2 pages/s, 5,610 requests queued, 12 legal notices,
    3 failed URLs, about 29 min left

The queue is what is left to download: the scheduler's requests (``scheduler/enqueued`` less
``scheduler/dequeued``, public stats) plus those the downloader holds (``engine.downloader.active``,
public attributes that Scrapy's own ``get_engine_status`` reads; the engine takes up to
``CONCURRENT_REQUESTS`` out of the scheduler at once). The time left is that queue at the rate of
the last interval, left out while the queue size is unknown, empty, or not moving.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from newsarchive import default_settings as defaults
from newsarchive.extensions.manifest import failed_urls

logger = logging.getLogger(__name__)

NOTICE_PREFIX = "newsarchive/extract/notice/"


@dataclass(frozen=True)
class Snapshot:
    """What the previous line saw: pages received and when (monotonic seconds)."""

    pages: int
    at: float


def queue_left(stats: dict[str, Any]) -> int | None:
    """Requests waiting in the scheduler, or ``None`` when the scheduler does not count them."""
    if "scheduler/enqueued" not in stats:
        return None
    return max(0, int(stats["scheduler/enqueued"]) - int(stats.get("scheduler/dequeued", 0)))


def duration(seconds: float) -> str:
    """``45 s``, ``29 min``, ``3 h 05 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def progress_line(
    stats: dict[str, Any], previous: Snapshot, now: float, in_flight: int = 0
) -> tuple[str, Snapshot]:
    """The line for ``stats`` at ``now`` (``in_flight``: requests at the downloader), and the
    snapshot the next line is measured from."""
    pages = int(stats.get("response_received_count", 0))
    elapsed = now - previous.at
    rate = (pages - previous.pages) / elapsed if elapsed > 0 else 0.0
    notices = sum(int(v) for k, v in stats.items() if k.startswith(NOTICE_PREFIX))
    queue = queue_left(stats)
    if queue is not None:
        queue += in_flight
    parts = [
        f"{int(stats.get('item_scraped_count', 0)):,} articles written",
        f"{rate:.1f} pages/s",
        f"{queue:,} requests queued" if queue is not None else "queue size unknown",
        f"{notices:,} legal notices",
        f"{failed_urls(stats):,} failed URLs",
    ]
    if queue and rate > 0:
        parts.append(f"about {duration(queue / rate)} left")
    return "Progress: " + ", ".join(parts), Snapshot(pages, now)


class ProgressExtension:
    """Log :func:`progress_line` every ``LOGSTATS_INTERVAL`` seconds while the spider runs."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.snapshot = Snapshot(0, time.monotonic())
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_PROGRESS_ENABLED", defaults.NEWSARCHIVE_PROGRESS_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_PROGRESS_ENABLED is false")
        interval = settings.getfloat("LOGSTATS_INTERVAL")
        if not interval:
            raise NotConfigured("LOGSTATS_INTERVAL is 0: no rhythm to log progress at")
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.snapshot = Snapshot(0, time.monotonic())
        self.task = create_looping_call(self.log, spider)
        # now=False: the first line after one interval, when there is a rate to report.
        self.task.start(self.interval, now=False)

    def log(self, spider: Spider) -> None:
        assert self.crawler.stats is not None
        line, self.snapshot = progress_line(
            self.crawler.stats.get_stats(), self.snapshot, time.monotonic(), self.in_flight()
        )
        logger.info(line, extra={"spider": spider})

    def in_flight(self) -> int:
        """Requests the downloader holds (0 when an engine has no such attribute)."""
        downloader = getattr(self.crawler.engine, "downloader", None)
        return len(getattr(downloader, "active", ()))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
