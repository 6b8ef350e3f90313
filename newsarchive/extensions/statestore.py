"""Open the spider's state for the crawl, report what its start recovered, and tell cron when a
site went silent.

The state's lifecycle itself is Scrapy-free (:mod:`newsarchive.state.session`: killed runs
recovered by :mod:`newsarchive.state.recovery`, a schema-1 file back-filled by
:mod:`newsarchive.state.fold`); this extension builds the store (SQLite, or with
``NEWSARCHIVE_DISTRIBUTED`` the run's shared Redis state), opens it once the run lock is held (it
is built right after :class:`~newsarchive.extensions.runlock.RunLockExtension`), hangs it on the
crawler, counts and logs the repairs, and closes it at engine stop. Other components reach the
store through :func:`newsarchive.state.session.state_for`, never through this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive import default_settings as defaults
from newsarchive.archive.repair import RunRepair
from newsarchive.cluster.connect import connect
from newsarchive.runfolder import run_folder
from newsarchive.runstatus import mark_failed
from newsarchive.state.redisstore import RedisStateStore, state_prefix
from newsarchive.state.session import AnyStateStore, StateSession, attach
from newsarchive.state.store import STATE_FILENAME, StateStore

logger = logging.getLogger(__name__)

#: Per-site discovery count set by spiders: ``newsarchive/discovery/site/<host>``.
SITE_STAT_PREFIX = "newsarchive/discovery/site/"


@dataclass(frozen=True)
class StateConfig:
    output: str
    run_id: str
    path: str
    """Empty: ``<output>/<spider>/state.sqlite``."""
    distributed: str = ""
    """A Redis URL: the state is in Redis (:mod:`newsarchive.state.redisstore`), shared by the
    workers of a distributed run; their killed workers are recovered by their run's workers."""

    def state_path(self, spider_name: str) -> Path:
        return Path(self.path) if self.path else Path(self.output) / spider_name / STATE_FILENAME


class StateStoreExtension:
    """Owns the :class:`~newsarchive.state.session.StateSession` of one crawl (open at build
    time, closed at engine stop)."""

    def __init__(self, crawler: Crawler, config: StateConfig, session: StateSession) -> None:
        self.crawler = crawler
        self.config = config
        self.session = session

    @property
    def store(self) -> AnyStateStore | None:
        """The open store (None once closed)."""
        return self.session.store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StateStoreExtension:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_STATE_ENABLED", defaults.NEWSARCHIVE_STATE_ENABLED):
            raise NotConfigured("NEWSARCHIVE_STATE_ENABLED is false")
        config = StateConfig(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
            path=settings.get("NEWSARCHIVE_STATE_PATH", defaults.NEWSARCHIVE_STATE_PATH) or "",
            distributed=settings.get("NEWSARCHIVE_DISTRIBUTED", ""),
        )
        assert crawler.spider is not None, "extensions are built after the spider"
        name = crawler.spider.name
        store: AnyStateStore
        if config.distributed:
            store = RedisStateStore(connect(config.distributed), state_prefix(name), owned=True)
        else:
            store = StateStore(config.state_path(name))
        session = StateSession.open(
            store,
            config.run_id,
            run_folder(config.output, name, config.run_id),
            None if config.distributed else Path(config.output) / name,
        )
        attach(crawler, session)
        extension = cls(crawler, config, session)
        extension.report_opening()
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def report_opening(self) -> None:
        """Stats and log lines for the killed runs recovered and the schema-1 back-fill."""
        stats = self.crawler.stats
        for run in self.session.recovered:
            report = run.repair
            stats.inc_value("newsarchive/state/recovered_runs")
            stats.inc_value("newsarchive/repair/warc_files", len(report.warcs))
            stats.inc_value(
                "newsarchive/repair/trimmed_bytes",
                sum(w.trimmed_bytes for w in report.warcs)
                + sum(j.trimmed_bytes for j in report.jsonl),
            )
            stats.inc_value("newsarchive/repair/jsonl_files", len(report.jsonl))
            _log_repair(run.run_id, report)
        folded = self.session.backfilled
        if folded is not None:
            stats.set_value("newsarchive/state/backfilled_items", folded)
            if folded:
                logger.info("State file upgraded to article keys: %d earlier items settled", folded)

    # -- signals ------------------------------------------------------------------------------
    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Fail the run when a site that listed articles last time listed none now."""
        store = self.store
        if store is None or reason != "finished" or self.config.distributed:
            return  # a worker sees only part of the run's discovery
        stats = self.crawler.stats
        hosts = list(getattr(spider, "allowed_domains", None) or [])
        counts = {host: int(stats.get_value(SITE_STAT_PREFIX + host, 0)) for host in hosts}
        previous = store.site_articles()
        silent = sorted(h for h, n in counts.items() if n == 0 and previous.get(h, 0) > 0)
        if silent:
            mark_failed(self.crawler, "site_silent")
            for host in silent:
                logger.error(
                    "Discovery found no article on %s, which listed %d last run: "
                    "did the site change its sitemaps or markup?",
                    host,
                    previous[host],
                )
        store.set_site_articles(counts, self.config.run_id)

    def engine_stopped(self) -> None:
        self.session.close(str(self.crawler.stats.get_value("finish_reason", "unknown")))


def _log_repair(run_id: str, report: RunRepair) -> None:
    for warc in report.warcs:
        log = logger.error if warc.action == "failed" else logger.warning
        log(
            "Repaired WARC of killed run %s: %s %s (%d records kept, %d bytes cut)%s",
            run_id,
            warc.file,
            warc.action,
            warc.records,
            warc.trimmed_bytes,
            f": {warc.error}" if warc.error else "",
        )
    for jsonl in report.jsonl:
        logger.warning(
            "Repaired %s of killed run %s: cut a torn last line (%d bytes)",
            jsonl.file,
            run_id,
            jsonl.trimmed_bytes,
        )
