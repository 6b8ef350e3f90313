"""Write ``report.html`` in the run folder when the run is over.

A thin adapter over :func:`newsarchive.report.write_report`, which ``scrapy report`` also uses.
It runs on ``engine_stopped`` after the manifest and the self-check (the error log closed at
``spider_closed``), with the crawl's live stats, and before the run-folder summary, which names
the page. A report that cannot
be written is logged; it never fails a run whose archive is fine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive import default_settings as defaults
from newsarchive.report import write_report
from newsarchive.runfolder import run_folder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportConfig:
    output: str
    run_id: str
    max_articles: int


class ReportExtension:
    """At ``engine_stopped``: ``report.html`` from the run folder's files."""

    def __init__(self, crawler: Crawler, config: ReportConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.folder: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReportExtension:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_REPORT_ENABLED", defaults.NEWSARCHIVE_REPORT_ENABLED):
            raise NotConfigured("NEWSARCHIVE_REPORT_ENABLED is false")
        if not settings.getbool(
            "NEWSARCHIVE_RUNFOLDER_ENABLED", defaults.NEWSARCHIVE_RUNFOLDER_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_RUNFOLDER_ENABLED is false: no run folder to report")
        config = ReportConfig(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
            max_articles=settings.getint(
                "NEWSARCHIVE_REPORT_MAX_ARTICLES", defaults.NEWSARCHIVE_REPORT_MAX_ARTICLES
            ),
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
            path = write_report(
                self.folder, self.config.max_articles, stats=self.crawler.stats.get_stats()
            )
        except Exception:  # a report bug must not fail a run whose archive is fine: logged
            logger.exception("Could not write the report of %s", self.folder)
            return
        logger.info("Run report: %s", path)
