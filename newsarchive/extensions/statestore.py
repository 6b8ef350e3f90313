"""Open the spider's state store, recover killed runs, and tell cron when a site went silent.

At start (after :class:`~newsarchive.extensions.runlock.RunLockExtension` took the lock, so no
live run's files are touched) every run that began and never ended is repaired
(:mod:`newsarchive.archive.repair`) and folded back into the state: its archived payloads become
revisit targets, its item lines count as emitted. That is what makes "killed run + next run"
hold every article exactly once.

A state file from before article keys (schema 1, when ``news`` items had no key and were never
settled) is back-filled once from the ``items.jsonl`` of the runs it lists, newest first, so the
first run after the upgrade does not emit every known article again.

Other components reach the store through :func:`state_for`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive import default_settings as defaults
from newsarchive.archive.repair import RunRepair, open_warcs, repair_run_folder
from newsarchive.cluster.connect import connect
from newsarchive.runfolder import run_folder
from newsarchive.runstatus import mark_failed
from newsarchive.state.fold import fold_item, fold_item_lines, fold_warcs
from newsarchive.state.redisstore import RedisStateStore, state_prefix
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


def state_for(crawler: Crawler) -> StateStore | RedisStateStore | None:
    """The open state store of this crawl, or None when the state extension is off."""
    extension = crawler.get_extension(StateStoreExtension)
    return extension.store if extension is not None else None


def recovery_report(crawler: Crawler) -> list[dict[str, Any]]:
    """What the start of this crawl repaired in killed runs (for the manifest)."""
    extension = crawler.get_extension(StateStoreExtension)
    return list(extension.repairs) if extension is not None else []


class StateStoreExtension:
    """Owns the :class:`StateStore` of one crawl (open at build time, closed at engine stop)."""

    def __init__(
        self, crawler: Crawler, config: StateConfig, store: StateStore | RedisStateStore
    ) -> None:
        self.crawler = crawler
        self.config = config
        self.store: StateStore | RedisStateStore | None = store
        self.repairs: list[dict[str, Any]] = []

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
        if config.distributed:
            store = RedisStateStore(connect(config.distributed), state_prefix(name), owned=True)
            extension = cls(crawler, config, store)
        else:
            extension = cls(crawler, config, StateStore(config.state_path(name)))
            extension.recover(Path(config.output) / name)
            extension.backfill()
        assert extension.store is not None
        extension.store.begin_run(
            config.run_id, run_folder(config.output, name, config.run_id), datetime.now(UTC)
        )
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    # -- recovery of killed runs ---------------------------------------------------------------
    def recover(self, spider_folder: Path) -> None:
        """Repair and fold in every run that began and never ended (or left ``.open`` files)."""
        store = self.store
        assert store is not None
        folders = {folder.resolve(): run_id for run_id, folder in store.unfinished_runs()}
        if spider_folder.is_dir():
            for child in spider_folder.iterdir():
                if child.is_dir() and not child.is_symlink() and open_warcs(child):
                    folders.setdefault(child.resolve(), child.name)
        stats = self.crawler.stats
        for folder, run_id in sorted(folders.items(), key=lambda kv: kv[1]):
            if not folder.is_dir():
                store.end_run(run_id, datetime.now(UTC), "missing")
                continue
            report = repair_run_folder(folder)
            folded = self.fold_in(folder, run_id)
            store.end_run(run_id, datetime.now(UTC), "killed")
            entry = {"run_id": run_id, **report.as_dict(), **folded}
            self.repairs.append(entry)
            _mark_manifest_killed(folder, entry)
            stats.inc_value("newsarchive/state/recovered_runs")
            stats.inc_value("newsarchive/repair/warc_files", len(report.warcs))
            stats.inc_value(
                "newsarchive/repair/trimmed_bytes",
                sum(w.trimmed_bytes for w in report.warcs)
                + sum(j.trimmed_bytes for j in report.jsonl),
            )
            stats.inc_value("newsarchive/repair/jsonl_files", len(report.jsonl))
            _log_repair(run_id, report)

    def backfill(self) -> None:
        """Once, for a schema-1 state file: settle the items of the runs it lists, newest first
        (so the stored digest is the last one emitted); items already settled are skipped."""
        store = self.store
        assert store is not None
        if not store.needs_backfill():
            return
        folded = 0
        for run_id, folder in store.finished_runs():
            lines = folder / "items.jsonl"
            if not lines.is_file():
                continue
            for line in lines.read_text("utf-8").splitlines():
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                folded += fold_item(store, item, run_id, {})
        store.mark_backfilled()
        self.crawler.stats.set_value("newsarchive/state/backfilled_items", folded)
        if folded:
            logger.info("State file upgraded to article keys: %d earlier items settled", folded)

    def fold_in(self, folder: Path, run_id: str) -> dict[str, int]:
        """Teach the store what a killed run archived and emitted before it died."""
        store = self.store
        assert store is not None
        payloads, validators = fold_warcs(store, sorted(folder.glob("*.warc.gz")), run_id)
        items = fold_item_lines(store, folder / "items.jsonl", run_id, validators)
        return {"payloads_registered": payloads, "items_registered": items}

    # -- signals ------------------------------------------------------------------------------
    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Fail the run when a site that listed articles last time listed none now."""
        if self.store is None or reason != "finished" or self.config.distributed:
            return  # a worker sees only part of the run's discovery
        stats = self.crawler.stats
        hosts = list(getattr(spider, "allowed_domains", None) or [])
        counts = {host: int(stats.get_value(SITE_STAT_PREFIX + host, 0)) for host in hosts}
        previous = self.store.site_articles()
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
        self.store.set_site_articles(counts, self.config.run_id)

    def engine_stopped(self) -> None:
        if self.store is None:
            return
        reason = str(self.crawler.stats.get_value("finish_reason", "unknown"))
        self.store.end_run(self.config.run_id, datetime.now(UTC), reason)
        self.store.close()
        self.store = None


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


def _mark_manifest_killed(folder: Path, repair: dict[str, Any]) -> None:
    from newsarchive.extensions.manifest import mark_killed

    mark_killed(folder, repair)
