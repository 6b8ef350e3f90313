"""scrapy-redis's scheduler, with requests that a killed worker gives back.

scrapy-redis keeps the shared queue (a Redis sorted set) and the shared duplicate filter (a set of
request fingerprints): this class keeps both, and all of its settings. It changes how a request
leaves the queue: :meth:`Frontier.take <newsarchive.cluster.frontier.Frontier.take>` moves it,
atomically, into this worker's in-flight hash, and the request carries the token
(``request.meta[metakeys.INFLIGHT]``) that the shared-frontier spider middleware acks once
the request is done. A request scheduled again (a retry, a redirect) loses its old token and
gets its own when taken. A new request is checked against the duplicate filter and queued in
one Redis script (scrapy-redis does it in two calls, and a kill in between would lose the URL).

Relies on scrapy-redis 0.9's storage: ``PriorityQueue`` (members are the serializer's encoding
of ``request.to_dict()``, score ``-priority``) and its ``queue.key``/``serializer`` attributes;
:meth:`open` fails with the fix when another queue class is configured.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.request import request_from_dict
from scrapy_redis import picklecompat
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from newsarchive import metakeys
from newsarchive.extensions.distributed import cluster_for


class DistributedScheduler(Scheduler):
    """The shared queue and duplicate filter of scrapy-redis, taken from with in-flight tokens."""

    crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        return scheduler

    def open(self, spider: Spider) -> None:
        super().open(spider)
        if not isinstance(self.queue, PriorityQueue):
            raise ValueError(
                f"SCHEDULER_QUEUE_CLASS={self.queue_cls!r}: newsarchive's distributed scheduler "
                "takes requests from scrapy-redis's PriorityQueue; remove the setting"
            )
        assert self.crawler is not None
        cluster = cluster_for(self.crawler)
        if cluster is None:
            raise ValueError(
                "SCHEDULER is newsarchive's distributed scheduler but NEWSARCHIVE_DISTRIBUTED is "
                "empty: set it to redis://host:6379/0 (the add-on then sets SCHEDULER itself)"
            )
        found = (self.queue.key, getattr(self.df, "key", None))
        if found != (cluster.keys.requests, cluster.keys.dupefilter):
            raise ValueError(
                f"SCHEDULER_QUEUE_KEY/SCHEDULER_DUPEFILTER_KEY give {found}, not the run's "
                f"{cluster.keys.requests!r}/{cluster.keys.dupefilter!r}: leave them to the add-on"
            )
        self.frontier = cluster.frontier
        self._serializer: Any = self.serializer or picklecompat

    def close(self, reason: str) -> None:
        """Never flush: the queue and the duplicate filter belong to the whole run."""

    def enqueue_request(self, request: Any) -> bool:
        request.meta.pop(metakeys.INFLIGHT, None)  # a retry or redirect is a request of its own
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        try:
            data = self._serializer.dumps(request.to_dict(spider=self.spider))
        except ValueError as exc:  # Scrapy: a callback that is not a method of the spider
            raise ValueError(
                f"cannot put {request} into the shared queue ({exc}): in a distributed run every "
                "request's callback and errback must be methods of the spider"
            ) from exc
        if not self.frontier.push(data, request.priority, fingerprint):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Any:
        taken = self.frontier.take()
        if taken is None:
            return None
        token, data = taken
        request = request_from_dict(self._serializer.loads(data), spider=self.spider)
        request.meta[metakeys.INFLIGHT] = token
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request
