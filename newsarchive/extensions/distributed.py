"""One worker of a distributed run: join it, keep beating, recover dead workers, stop together.

With ``NEWSARCHIVE_DISTRIBUTED=redis://...`` any number of ``scrapy crawl`` processes, on any
number of machines, given the same ``NEWSARCHIVE_RUN_ID``, share one frontier (the scrapy-redis
queue and duplicate filter, :mod:`newsarchive.schedulers.distributed`). This extension:

* registers the worker and renews its ``alive`` key every ``NEWSARCHIVE_DISTRIBUTED_HEARTBEAT``/3
  seconds;
* recovers dead workers whose files it can read (their ``worker-<id>.lock`` in this run folder
  is no longer held: the kernel drops an ``flock`` when its holder dies, even by SIGKILL). In this
  order: repair its files, fold what it archived and emitted into the state, then put its
  in-flight requests back in the queue, so their re-fetch is a revisit and an unchanged item,
  never a second article. A worker on another machine is recovered by the next worker started
  there (its files are there);
* keeps an idle worker open while the run has work (queued requests, or requests in flight at a
  live worker: they may list more), and lets all workers stop when there is none.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from newsarchive import default_settings as defaults
from newsarchive.archive.manifest import mark_killed
from newsarchive.archive.repair import repair_worker_files
from newsarchive.arguments import requisites_wanted
from newsarchive.cluster import Frontier, Ledger, RunKeys, WorkerRegistry, connect
from newsarchive.extensions.runlock import RunLock, RunLocked, probe, worker_lock_path
from newsarchive.runfolder import run_folder, worker_file
from newsarchive.state.fold import fold_item_lines, fold_warcs
from newsarchive.state.session import state_for

logger = logging.getLogger(__name__)

STATS_PREFIX = "newsarchive/distributed/"


@dataclass(frozen=True)
class DistributedConfig:
    url: str
    run_id: str
    worker: str
    output: str
    heartbeat: float
    warc_prefix: str

    @classmethod
    def from_settings(cls, settings: Any) -> DistributedConfig:
        return cls(
            url=settings.get("NEWSARCHIVE_DISTRIBUTED", ""),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
            worker=settings.get("NEWSARCHIVE_WORKER_ID", ""),
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            heartbeat=settings.getfloat(
                "NEWSARCHIVE_DISTRIBUTED_HEARTBEAT", defaults.NEWSARCHIVE_DISTRIBUTED_HEARTBEAT
            ),
            warc_prefix=settings.get("NEWSARCHIVE_WARC_PREFIX", defaults.NEWSARCHIVE_WARC_PREFIX),
        )


@dataclass
class Cluster:
    """What the other distributed components of this worker use (:func:`cluster_for`)."""

    worker: str
    keys: RunKeys
    frontier: Frontier
    registry: WorkerRegistry
    ledger: Ledger
    #: This worker puts discovery's start requests into the queue (it claimed the seed).
    seeding: bool = False


def cluster_for(crawler: Crawler) -> Cluster | None:
    """The cluster handle of this worker, or None outside distributed mode."""
    extensions = getattr(crawler, "extensions", None)
    if extensions is None:
        return None
    extension = crawler.get_extension(DistributedExtension)
    return extension.cluster if extension is not None else None


class DistributedExtension:
    """The worker's membership in its run (see the module docstring)."""

    def __init__(self, crawler: Crawler, config: DistributedConfig, client: Any) -> None:
        self.crawler = crawler
        self.config = config
        self.client = client
        self.cluster: Cluster | None = None
        self.folder: Path | None = None
        self._beat: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedExtension:
        config = DistributedConfig.from_settings(crawler.settings)
        if not config.url:
            raise NotConfigured("NEWSARCHIVE_DISTRIBUTED is empty (a single-machine run)")
        if requisites_wanted(crawler):
            raise ValueError(
                "page requisites (-a requisites=1, NEWSARCHIVE_REQUISITES_ENABLED) do not work in "
                "a distributed run yet: their requests' callback is a middleware's, which the "
                "shared queue cannot store. Crawl requisites on one machine"
            )
        assert crawler.spider is not None, "extensions are built after the spider"
        extension = cls(crawler, config, connect(config.url))
        keys = RunKeys(crawler.spider.name, config.run_id)
        registry = WorkerRegistry(extension.client, keys, ttl=config.heartbeat)
        extension.cluster = Cluster(
            worker=config.worker,
            keys=keys,
            frontier=Frontier(extension.client, keys, config.worker),
            registry=registry,
            ledger=Ledger(extension.client, keys),
        )
        extension.folder = run_folder(config.output, crawler.spider.name, config.run_id)
        registry.register(
            config.worker,
            {"host": socket.gethostname(), "pid": os.getpid(), "folder": str(extension.folder)},
        )
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    # -- signals ------------------------------------------------------------------------------
    def spider_opened(self, spider: Spider) -> None:
        self.recover_dead(at_start=True)  # before the start requests: a dead seeder's seed is ours
        self._beat = task.LoopingCall(self.beat)
        self._beat.start(max(0.5, self.config.heartbeat / 3), now=True)

    def beat(self) -> None:
        assert self.cluster is not None
        self.cluster.registry.beat(self.cluster.worker)
        self.recover_dead()

    def spider_idle(self, spider: Spider) -> None:
        cluster = self.cluster
        assert cluster is not None
        # The engine is idle: every request this worker took is done (left over: the originals
        # of retries and redirects, whose new requests were queued and taken on their own).
        swept = cluster.frontier.sweep()
        if swept:
            self.crawler.stats.inc_value(STATS_PREFIX + "swept", swept)
        self.recover_dead()
        busy = self.work_left()
        if busy:
            raise DontCloseSpider(f"distributed run not done: {busy}")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Say "finished" before the lock goes (at engine stop), so nobody recovers this worker."""
        cluster = self.cluster
        assert cluster is not None
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        status = "finished" if reason == "finished" else "interrupted"
        if reason == "finished":
            cluster.frontier.sweep()
        stats = self.crawler.stats
        stats.set_value(STATS_PREFIX + "worker", cluster.worker)
        stats.set_value(STATS_PREFIX + "in_flight_left", cluster.frontier.in_flight())
        cluster.registry.update(cluster.worker, status=status, finish_reason=reason)
        cluster.registry.stop_beating(cluster.worker)

    def engine_stopped(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    # -- the run's work ----------------------------------------------------------------------
    def work_left(self) -> str | None:
        """Why this worker must not stop yet (None: the run has no work left)."""
        cluster = self.cluster
        assert cluster is not None
        registry, frontier = cluster.registry, cluster.frontier
        seeder = registry.seeder()
        if seeder is not None and seeder != "done" and registry.alive(seeder):
            return f"worker {seeder} is seeding discovery"
        queued = frontier.queued()
        if queued:
            return f"{queued} requests queued"
        for worker, info in sorted(registry.workers().items()):
            if worker == cluster.worker or info.get("status") != "running":
                continue
            in_flight = frontier.in_flight(worker)
            if not in_flight:
                continue
            if registry.alive(worker) or self._running_here(worker):
                return f"{in_flight} requests in flight at worker {worker}"
            if registry.recovered_by(worker) is None:
                logger.warning(
                    "Worker %s is gone with %d requests in flight and its files are not in %s: "
                    "start a worker of this run where its run folder is to recover them",
                    worker,
                    in_flight,
                    self.folder,
                )
        return None

    def _running_here(self, worker: str) -> bool:
        """``worker`` holds its lock in this run folder (alive here, if slow to beat)."""
        assert self.folder is not None
        path = worker_lock_path(self.folder, worker)
        return path.exists() and probe(path) is not None

    def recover_dead(self, at_start: bool = False) -> None:
        """Recover every dead worker whose lock file is in this run folder (see the docstring)."""
        cluster = self.cluster
        assert cluster is not None and self.folder is not None
        for worker, info in sorted(cluster.registry.workers().items()):
            if worker == cluster.worker or info.get("status") != "running":
                continue
            path = worker_lock_path(self.folder, worker)
            if not path.exists():
                continue  # its files are on another machine
            try:
                lock = RunLock(path).acquire()
            except RunLocked:
                continue  # alive on this machine, or being recovered by another worker
            try:
                # Still "running" now that we hold its lock: nobody recovered it meanwhile (a
                # recovery cut short by a kill leaves it "running": it is simply done again).
                if cluster.registry.workers().get(worker, {}).get("status") == "running":
                    cluster.registry.mark_recovering(worker, cluster.worker)
                    self._recover(worker, at_start)
            finally:
                lock.release()

    def _recover(self, dead: str, at_start: bool) -> None:
        cluster = self.cluster
        assert cluster is not None and self.folder is not None
        repair = repair_worker_files(self.folder, dead)
        folded = {"payloads_registered": 0, "items_registered": 0}
        store = state_for(self.crawler)
        if store is not None:
            warcs = sorted(self.folder.glob(f"{self.config.warc_prefix}-{dead}-*.warc.gz"))
            payloads, validators = fold_warcs(store, warcs, self.config.run_id)
            items = self.folder / worker_file("items.jsonl", dead)
            folded = {
                "payloads_registered": payloads,
                "items_registered": fold_item_lines(store, items, self.config.run_id, validators),
            }
        requeued = cluster.frontier.requeue(dead)
        took_seed = cluster.registry.take_over_seed(dead, cluster.worker)
        if took_seed and at_start:
            cluster.seeding = True  # the shared-frontier middleware lets our start requests in
        elif took_seed:
            deferred_from_coro(self._seed_again())
        cluster.registry.update(
            dead,
            status="killed",
            recovered_by=cluster.worker,
            requeued=requeued,
            repair=repair.as_dict(),
            **folded,
        )
        mark_killed(self.folder, {"recovered_by": cluster.worker, **folded}, worker=dead)
        stats = self.crawler.stats
        stats.inc_value(STATS_PREFIX + "recovered_workers")
        stats.inc_value(STATS_PREFIX + "requeued", requeued)
        logger.warning(
            "Recovered dead worker %s: %d WARC(s) and %d JSONL file(s) repaired, %d payloads and "
            "%d items folded into the state, %d in-flight requests back in the queue%s",
            dead,
            len(repair.warcs),
            len(repair.jsonl),
            folded["payloads_registered"],
            folded["items_registered"],
            requeued,
            "; seeding discovery in its place" if took_seed else "",
        )

    async def _seed_again(self) -> None:
        """Mid-run, in place of a seeder that died seeding: the spider's start requests again
        (the shared duplicate filter drops those the dead seeder had queued)."""
        cluster, spider, engine = self.cluster, self.crawler.spider, self.crawler.engine
        assert cluster is not None and spider is not None and engine is not None
        seeded = 0
        async for request in spider.start():
            if isinstance(request, Request):  # start() may also yield items: not discovery
                engine.crawl(request)
                seeded += 1
        cluster.registry.seed_done()
        self.crawler.stats.inc_value(STATS_PREFIX + "seeded", seeded)
        logger.info("Seeded discovery again with %d start requests", seeded)
