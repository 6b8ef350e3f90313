"""Scrapy's scheduler with the pending requests on disk, so memory does not grow with a site.

A sitemap that lists 20,000 articles schedules 20,000 requests at once, and in Scrapy's memory
queue each one costs the crawl's process about 2.5 KB until it is downloaded: ~50 MB at that
size, the largest part of the crawl's memory that grows with the site. Scrapy keeps pending
requests on disk only for a resumable job (``JOBDIR``); this scheduler does the same in a
private temporary folder, removed when the run closes, so a run is not made a resumable job by
it and a given ``JOBDIR`` keeps Scrapy's meaning. A request that cannot be pickled stays in
memory, as in Scrapy (``scheduler/unserializable``). ``NEWSARCHIVE_DISKQUEUE_ENABLED=False``:
Scrapy's memory queue.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from scrapy import Spider
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.utils.job import job_dir
from twisted.internet.defer import Deferred

from newsarchive import default_settings as defaults


class DiskQueueScheduler(Scheduler):
    """Scrapy's :class:`~scrapy.core.scheduler.Scheduler`, disk queue on, in a temporary folder."""

    private: bool = False
    """Whether the queue goes to a private temporary folder (made when the scheduler opens)."""
    private_dir: str | None = None
    """That folder while the scheduler is open (None: Scrapy's choice, memory or ``JOBDIR``)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DiskQueueScheduler:
        scheduler = super().from_crawler(crawler)
        settings = crawler.settings
        enabled = settings.getbool(
            "NEWSARCHIVE_DISKQUEUE_ENABLED", defaults.NEWSARCHIVE_DISKQUEUE_ENABLED
        )
        scheduler.private = enabled and job_dir(settings) is None
        return scheduler

    def open(self, spider: Spider) -> Deferred[None] | None:
        if self.private:
            # Made here, not when built: a crawl that stops before opening leaves no folder.
            self.private_dir = tempfile.mkdtemp(prefix="newsarchive-queue-")
            # ``dqdir`` (public) is read by Scrapy's ``open``: the queue goes where Scrapy
            # puts a job's, ``<JOBDIR>/requests.queue``.
            queue = Path(self.private_dir, "requests.queue")
            queue.mkdir()
            self.dqdir = str(queue)
        return super().open(spider)

    def close(self, reason: str) -> Deferred[None] | None:
        try:
            return super().close(reason)
        finally:
            if self.private_dir is not None:
                shutil.rmtree(self.private_dir, ignore_errors=True)
                self.private_dir = None
                self.dqdir = None
