"""Seed discovery once per distributed run; ack each request when its work is durable.

*Seeding*: every worker runs the same spider, whose ``start()`` yields discovery's first requests
(robots.txt of each site). Only the worker that claims the run's seed lets them through; the
others start with an empty hand and take from the shared queue. A worker that recovers a seeder
which died before it finished seeds again (the shared duplicate filter drops what is queued).

*Acks*: a request taken from the shared queue stays in the worker's in-flight hash until its
callback's output is through: the requests it yielded are queued (pushed to Redis while the
output is iterated) and the items it yielded are written and settled (``item_scraped`` /
``item_dropped`` / ``item_error``, whose handlers here are connected after the feed exporter's
and the dedupe pipeline's). Requests that ended otherwise (a failure to its errback, a retry, a
redirect) are acked when the worker's engine is idle (``spider_idle``), or given back by whoever
recovers a dead worker: a re-fetch is a revisit, never a loss.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive import metakeys
from newsarchive.extensions.distributed import Cluster, cluster_for

logger = logging.getLogger(__name__)


class SharedFrontierMiddleware:
    """Seed once; ack what is done (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        #: token → parts of the request's work still open (its output, each of its items).
        self.open_work: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedFrontierMiddleware:
        if not crawler.settings.get("NEWSARCHIVE_DISTRIBUTED"):
            raise NotConfigured("NEWSARCHIVE_DISTRIBUTED is empty (a single-machine run)")
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    @property
    def cluster(self) -> Cluster:
        cluster = cluster_for(self.crawler)
        if cluster is None:
            raise RuntimeError(
                "NEWSARCHIVE_DISTRIBUTED is set but the distributed extension is off"
            )
        return cluster

    def spider_opened(self, spider: Spider) -> None:
        # Connected now, after every component was built: these run after the feed exporter
        # wrote the item and the dedupe pipeline settled it.
        connect = self.crawler.signals.connect
        connect(self.item_done, signal=signals.item_scraped)
        connect(self.item_done, signal=signals.item_dropped)
        connect(self.item_done, signal=signals.item_error)

    # -- seeding ------------------------------------------------------------------------------
    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        cluster = self.cluster
        registry = cluster.registry
        if not (cluster.seeding or registry.claim_seed(cluster.worker)):
            logger.info(
                "Discovery is seeded by worker %s: taking requests from the shared queue",
                registry.seeder(),
            )
            return
        cluster.seeding = True
        seeded = 0
        async for request in start:
            seeded += 1
            yield request
        registry.seed_done()
        self.crawler.stats.set_value("newsarchive/distributed/seeded", seeded)
        logger.info("Seeded discovery with %d start requests", seeded)

    # -- acks ---------------------------------------------------------------------------------
    def process_spider_output(
        self, response: Response, result: Iterable[Any], spider: Spider | None = None
    ) -> Iterable[Any]:
        token = _token(response)
        if token is None:
            yield from result
            return
        self.open_work[token] += 1
        for output in result:
            if not isinstance(output, Request):
                self.open_work[token] += 1
            yield output
        self._close_part(token)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider: Spider | None = None
    ) -> AsyncIterator[Any]:
        token = _token(response)
        if token is None:
            async for output in result:
                yield output
            return
        self.open_work[token] += 1
        async for output in result:
            if not isinstance(output, Request):
                self.open_work[token] += 1
            yield output
        self._close_part(token)

    def item_done(self, item: Any, response: Response | None, **kwargs: Any) -> None:
        token = _token(response)
        if token is not None and self.open_work[token] > 0:
            self._close_part(token)

    def _close_part(self, token: str) -> None:
        self.open_work[token] -= 1
        if self.open_work[token] <= 0:
            del self.open_work[token]
            self.cluster.frontier.ack(token)


def _token(response: Response | None) -> str | None:
    request = getattr(response, "request", None)
    return request.meta.get(metakeys.INFLIGHT) if request is not None else None
