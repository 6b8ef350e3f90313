"""Own the run folder: create it, point ``latest`` at it when done, summarise the run.

The summary is what a person reads after ``scrapy crawl``: how many articles and notices, which
WARC files, where the JSONL is. It goes to the log and, when enabled, to standard output.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive import default_settings as defaults
from newsarchive.runfolder import run_folder, worker_file, worker_of
from newsarchive.runstatus import FAILURE_PREFIX

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunFolderConfig:
    output: str
    run_id: str
    summary: bool
    #: A replay run archives nothing: ``latest`` keeps pointing at the last crawl's WARCs.
    replay: bool = False
    #: A distributed worker: its own ``stats-<worker>.json`` and summary.
    worker: str | None = None


def summarize(folder: Path, stats: dict, reason: str, worker: str | None = None) -> str:
    """A short human summary of a finished run (or of one worker's part of a distributed run)."""
    warcs = sorted(folder.glob(f"*-{worker}-*.warc.gz" if worker else "*.warc.gz"))
    items = folder / worker_file("items.jsonl", worker)
    notices = {
        key.rsplit("/", 1)[-1]: value
        for key, value in stats.items()
        if key.startswith("newsarchive/extract/notice/")
    }
    dropped = sum(v for k, v in stats.items() if k.startswith("newsarchive/extract/not_article/"))
    failed = sum(
        v
        for k, v in stats.items()
        if k.startswith(("newsarchive/fetch/failed/", "newsarchive/discovery/failed/"))
    )
    failed = stats.get("newsarchive/errors/urls", failed)  # errors.jsonl lines, when written
    lines = [
        f"newsarchive run {folder.name}"
        + (f" worker {worker}" if worker else "")
        + f" finished ({reason})",
        f"  articles:        {stats.get('newsarchive/extract/articles', 0)}",
        "  legal notices:   "
        + (", ".join(f"{n} {kind}" for kind, n in sorted(notices.items())) or "none"),
        # Two different "not article" numbers, named apart: pages fetched as articles that the
        # extractor rejected, and (below) every archived response that is no article.
        f"  rejected pages:  {dropped} (fetched as articles, not articles)   failed URLs: {failed}"
        f"   robots.txt skips: {stats.get('robotstxt/forbidden', 0)}",
        *accounting_lines(stats),
        f"  HTTP responses:  {stats.get('downloader/response_count', 0)}"
        f"   archived records: {stats.get('newsarchive/warc/response', 0)} responses,"
        f" {stats.get('newsarchive/warc/revisit', 0)} revisits",
        f"  WARC files:      {len(warcs)} in {folder}",
        *[f"    {w.name}  ({w.stat().st_size:,} bytes)" for w in warcs],
        f"  JSONL:           {items}",
    ]
    if any(
        k.startswith(("newsarchive/dedupe/", "newsarchive/discovery/known_skipped")) for k in stats
    ):
        lines.append(
            f"  incremental:     {stats.get('newsarchive/dedupe/new', 0)} new,"
            f" {stats.get('newsarchive/dedupe/changed', 0)} changed,"
            f" {stats.get('newsarchive/dedupe/unchanged', 0)} unchanged,"
            f" {stats.get('newsarchive/conditional/not_modified', 0)} not modified,"
            f" {stats.get('newsarchive/discovery/known_skipped', 0)} known and not re-fetched"
        )
    failures = sorted(k.rsplit("/", 1)[-1] for k in stats if k.startswith(FAILURE_PREFIX))
    if failures:
        lines.append(f"  RUN FAILED:      {', '.join(failures)} (exit status 1)")
    if "newsarchive/selfcheck/summary" in stats:
        lines.append(f"  self-check:      {stats['newsarchive/selfcheck/summary']}")
    if (folder / "report.html").exists():
        lines.append(f"  report:          {folder / 'report.html'}")
    return "\n".join(lines)


def accounting_lines(stats: dict) -> list[str]:
    """The accounting sum (see extensions/accounting.py), if the run kept one."""
    if "newsarchive/accounting/requested" not in stats:
        return []
    get = lambda key: stats.get(f"newsarchive/accounting/{key}", 0)  # noqa: E731 - local alias
    line = (
        f"  accounted URLs:  {get('requested')} = {get('item')} items"
        f" + {get('unchanged')} unchanged + {get('error')} errors"
        f" (errors.jsonl) + {get('not_article')} non-articles archived + {get('skipped')} skipped"
        f" + {get('duplicate')} duplicates"
    )
    if get("pending"):  # a run stopped early: where the URLs without a fate were at close
        where = ", ".join(
            f"{get(f'pending/{w}')} {w.replace('_', ' ')}"
            for w in ("queued", "in_flight", "interrupted")
            if get(f"pending/{w}")
        )
        line += f" + {get('pending')} pending" + (f" ({where})" if where else "")
    if get("unaccounted"):
        line += f"   UNACCOUNTED: {get('unaccounted')}"
    if "newsarchive/accounting/discovered" not in stats:
        return [line]
    reasons = sorted(
        (key.rsplit("/", 1)[-1], value)
        for key, value in stats.items()
        if key.startswith("newsarchive/accounting/not_requested/")
    )
    discovered = (
        f"  discovered URLs: {get('discovered')} = {get('requested')} requested"
        f" + {get('not_requested')} not requested"
        + (f" ({', '.join(f'{n} {reason}' for reason, n in reasons)})" if reasons else "")
    )
    return [discovered, line]


def write_stats(path: Path, stats: dict) -> None:
    """Dump the crawl stats as JSON (datetimes as ISO strings), atomically."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(stats, indent=1, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


class RunFolderExtension:
    """Create the run folder at open; at close, update ``latest`` and print the summary."""

    def __init__(self, crawler: Crawler, config: RunFolderConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.folder: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunFolderExtension:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_RUNFOLDER_ENABLED", defaults.NEWSARCHIVE_RUNFOLDER_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_RUNFOLDER_ENABLED is false")
        config = RunFolderConfig(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
            summary=settings.getbool(
                "NEWSARCHIVE_SUMMARY_ENABLED", defaults.NEWSARCHIVE_SUMMARY_ENABLED
            ),
            replay=bool(settings.get("NEWSARCHIVE_REPLAY")),
            worker=worker_of(settings),
        )
        extension = cls(crawler, config)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        # engine_stopped comes after every spider_closed handler (WARC files closed, feeds done).
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.folder = run_folder(self.config.output, spider.name, self.config.run_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        logger.info("Run folder: %s", self.folder)

    def engine_stopped(self) -> None:
        if self.folder is None:
            return
        stats = self.crawler.stats.get_stats()
        reason = str(stats.get("finish_reason", "unknown"))
        # An interrupted run is not the latest *finished* run; a replay run is no crawl.
        if reason == "finished" and not self.config.replay:
            latest = self.folder.parent / "latest"
            tmp = self.folder.parent / f".latest-{os.getpid()}"
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
            tmp.symlink_to(self.folder.name, target_is_directory=True)
            os.replace(tmp, latest)
        worker = self.config.worker
        write_stats(self.folder / worker_file("stats.json", worker), stats)
        text = summarize(self.folder, stats, reason, worker)
        if self.config.summary:
            print(text, file=sys.stdout, flush=True)
        else:
            logger.info("%s", text)
