"""At the close of a run: build its CDXJ index and WACZ, then check the run folder holds together.

Runs on ``engine_stopped`` (after every ``spider_closed`` handler: the WARCs are renamed from
``.open`` and ``items.jsonl`` is complete) and before the run-folder summary, which prints the
one-line result. A failed check marks the run failed (:func:`newsarchive.runstatus.mark_failed`),
so cron sees it in the exit status; details go to ``selfcheck.json`` in the run folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive import default_settings as defaults
from newsarchive.archive.check import SelfCheckOptions, SelfCheckReport, selfcheck_run
from newsarchive.runfolder import run_folder
from newsarchive.runstatus import mark_failed

logger = logging.getLogger(__name__)

STATS_PREFIX = "newsarchive/selfcheck/"


@dataclass(frozen=True)
class SelfCheckConfig:
    output: str
    run_id: str
    options: SelfCheckOptions

    @classmethod
    def from_settings(cls, settings) -> SelfCheckConfig:
        return cls(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
            options=options_from_settings(settings),
        )


def options_from_settings(settings) -> SelfCheckOptions:
    """The CDXJ/WACZ/self-check switches; shared with the ``selfcheck`` command."""
    return SelfCheckOptions(
        build_cdxj=settings.getbool("NEWSARCHIVE_CDXJ_ENABLED", defaults.NEWSARCHIVE_CDXJ_ENABLED),
        build_wacz=settings.getbool("NEWSARCHIVE_WACZ_ENABLED", defaults.NEWSARCHIVE_WACZ_ENABLED),
        check=settings.getbool(
            "NEWSARCHIVE_SELFCHECK_ENABLED", defaults.NEWSARCHIVE_SELFCHECK_ENABLED
        ),
        software=software(),
    )


def software() -> str:
    """What wrote the package, for ``datapackage.json``."""
    parts = []
    for dist in ("newsarchive", "scrapy", "warcio", "cdxj-indexer"):
        try:
            parts.append(f"{dist}/{version(dist)}")
        except PackageNotFoundError:
            continue
    return " ".join(parts) or "newsarchive"


def record_stats(crawler: Crawler, report: SelfCheckReport) -> None:
    stats = crawler.stats
    stats.set_value(STATS_PREFIX + "status", "passed" if report.passed else "failed")
    stats.set_value(STATS_PREFIX + "summary", report.summary_line())
    for key in ("warcs", "records", "items", "items_resolved", "cdxj_lines", "wacz_bytes"):
        stats.set_value(STATS_PREFIX + key, getattr(report, key))
    stats.set_value(STATS_PREFIX + "problems", report.problem_count)
    stats.set_value(STATS_PREFIX + "seconds", report.seconds)


class SelfCheckExtension:
    """Index, package and check the run folder when the engine stops."""

    def __init__(self, crawler: Crawler, config: SelfCheckConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.folder: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SelfCheckExtension:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_WARC_ENABLED", defaults.NEWSARCHIVE_WARC_ENABLED):
            raise NotConfigured("NEWSARCHIVE_WARC_ENABLED is false: no WARC to index or check")
        config = SelfCheckConfig.from_settings(settings)
        opts = config.options
        if not (opts.build_cdxj or opts.build_wacz or opts.check):
            raise NotConfigured(
                "NEWSARCHIVE_CDXJ_ENABLED, NEWSARCHIVE_WACZ_ENABLED and "
                "NEWSARCHIVE_SELFCHECK_ENABLED are all false"
            )
        extension = cls(crawler, config)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.folder = run_folder(self.config.output, spider.name, self.config.run_id)

    def engine_stopped(self) -> None:
        if self.folder is None or not self.folder.is_dir():
            return
        try:
            report = selfcheck_run(self.folder, self.config.options)
        except Exception:  # a crash here must still fail the run, not only log a traceback
            logger.exception("Self-check of %s crashed", self.folder)
            self.crawler.stats.set_value(STATS_PREFIX + "status", "crashed")
            self.crawler.stats.set_value(
                STATS_PREFIX + "summary", "FAILED: the self-check crashed (see the log)"
            )
            mark_failed(self.crawler, "selfcheck")
            return
        record_stats(self.crawler, report)
        if report.passed:
            logger.info("Self-check %s", report.summary_line())
        else:
            for problem in report.problems:
                logger.error("Self-check problem: %s", problem)
            mark_failed(self.crawler, "selfcheck")
