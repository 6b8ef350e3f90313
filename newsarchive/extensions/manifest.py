"""``manifest.json``: what one run was and what it left, for people, cron and archivists.

Written at start (status ``running``), rewritten at the end. A run killed by SIGKILL keeps the
``running`` manifest until the next run repairs it and marks it ``killed``; SIGTERM / Ctrl-C
end with ``interrupted: true``. The end-of-run checks that only need the stats (the spider
raised, too many errors, interrupted) live here too, and mark the run failed for cron.

A failed URL is one ``errors.jsonl`` line, whatever the phase (fetch, discovery, parse,
extract), so the manifest, the summary and the error ratio give the same number.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings, Settings

from newsarchive import default_settings as defaults
from newsarchive.archive.manifest import (
    MANIFEST_FILENAME,
    MANIFEST_VERSION,
    count_lines,
    warc_entries,
    write_json_atomic,
)
from newsarchive.runfolder import run_folder, worker_file, worker_of
from newsarchive.runstatus import failure_reasons, mark_failed
from newsarchive.state.session import session_for

logger = logging.getLogger(__name__)

#: Distributions whose versions are recorded (what produced the bytes and the text).
DEPENDENCIES = (
    "newsarchive",
    "scrapy",
    "twisted",
    "warcio",
    "trafilatura",
    "lxml",
    "w3lib",
    "itemadapter",
    "protego",
)
_SECRET = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH", re.IGNORECASE)
#: finish_reason values that mean the run was stopped before it was done.
INTERRUPTED_REASONS = ("shutdown", "cancelled")


@dataclass(frozen=True)
class ManifestConfig:
    output: str
    run_id: str
    max_error_ratio: float
    #: A distributed worker writes ``manifest-<worker>.json`` about its own files.
    worker: str | None = None


def dependency_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in DEPENDENCIES:
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    return versions


def changed_settings(settings: BaseSettings) -> dict[str, Any]:
    """Settings whose value differs from Scrapy's and newsarchive's defaults (secrets hidden)."""
    reference = Settings()
    for name in dir(defaults):
        if name.isupper():
            reference.set(name, getattr(defaults, name), priority="default")
    current = settings.copy_to_dict()
    base = reference.copy_to_dict()
    changed: dict[str, Any] = {}
    for name in sorted(current):
        value = current[name]
        if name in base and _jsonable(base[name]) == _jsonable(value):
            continue
        changed[name] = "***" if _SECRET.search(name) and value else _jsonable(_no_password(value))
    return changed


def _no_password(value: Any) -> Any:
    """``redis://:secret@host/0`` → ``redis://***@host/0`` (REDIS_URL, NEWSARCHIVE_DISTRIBUTED)."""
    if isinstance(value, str) and "://" in value and "@" in value:
        scheme, _, rest = value.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return value


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def failed_urls(stats: dict[str, Any]) -> int:
    """URLs in ``errors.jsonl``: ``newsarchive/errors/urls`` once the error log has closed,
    before that the sum of its ``newsarchive/errors/<phase>/<reason>`` counts (one per line)."""
    if "newsarchive/errors/urls" in stats:
        return int(stats["newsarchive/errors/urls"])
    return int(
        sum(
            value
            for key, value in stats.items()
            if key.startswith("newsarchive/errors/")
            and not key.startswith("newsarchive/errors/skipped/")
            and key.count("/") == 3
        )
    )


#: Manifest count keys kept under an old name for one release, and the key that replaces each.
DEPRECATED_COUNTS = {"discovered": "articles_discovered"}


def run_counts(stats: dict[str, Any]) -> dict[str, int]:
    """The manifest's counts, from the stats of the run.

    ``articles_discovered`` counts articles (requested + known and not re-fetched), unlike the
    accounting's ``discovered`` (every URL: sitemaps, robots.txt, ...). It was called
    ``discovered``, a key kept with the same value for one release (:data:`DEPRECATED_COUNTS`)
    so that cron users' scripts reading it do not break.
    """
    requested = int(stats.get("newsarchive/discovery/articles", 0))
    known = int(stats.get("newsarchive/discovery/known_skipped", 0))
    return {
        "articles_discovered": requested + known,
        "discovered": requested + known,  # deprecated: articles_discovered
        "known_skipped": known,
        "fetched": int(stats.get("newsarchive/conditional/fetched", 0)),
        "not_modified": int(stats.get("newsarchive/conditional/not_modified", 0)),
        "unchanged": int(stats.get("newsarchive/dedupe/unchanged", 0)),
        "new": int(stats.get("newsarchive/dedupe/new", 0)),
        "changed": int(stats.get("newsarchive/dedupe/changed", 0)),
        "failed": failed_urls(stats),
        "skipped_by_robots": int(stats.get("robotstxt/forbidden", 0)),
        "revisit_records": int(stats.get("newsarchive/warc/revisit", 0)),
        "response_records": int(stats.get("newsarchive/warc/response", 0)),
    }


def error_ratio(stats: dict[str, Any]) -> tuple[int, int, float]:
    """(failed URLs, requested URLs, ratio), both counted per URL (retries are not extra).

    Requested URLs come from the accounting (``newsarchive/accounting/requested``); without it,
    from the downloader's request count less retries.
    """
    failed = failed_urls(stats)
    requested = stats.get("newsarchive/accounting/requested")
    if requested is None:
        requested = int(stats.get("downloader/request_count", 0)) - int(stats.get("retry/count", 0))
    requested = max(int(requested), failed, 1)
    return failed, requested, failed / requested


class ManifestExtension:
    """Write ``manifest.json`` at start and at the end; run the stats-based failure checks."""

    def __init__(self, crawler: Crawler, config: ManifestConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.folder: Path | None = None
        self.manifest: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ManifestExtension:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_MANIFEST_ENABLED", defaults.NEWSARCHIVE_MANIFEST_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_MANIFEST_ENABLED is false")
        config = ManifestConfig(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
            max_error_ratio=settings.getfloat(
                "NEWSARCHIVE_MAX_ERROR_RATIO", defaults.NEWSARCHIVE_MAX_ERROR_RATIO
            ),
            worker=worker_of(settings),
        )
        extension = cls(crawler, config)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        # engine_stopped: after every spider_closed handler, so the error log and the
        # accounting have written their totals.
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.folder = run_folder(self.config.output, spider.name, self.config.run_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        session = session_for(self.crawler)
        self.manifest = {
            "manifest_version": MANIFEST_VERSION,
            "run_id": self.config.run_id,
            "spider": spider.name,
            "status": "running",
            "interrupted": None,
            "started": datetime.now(UTC).isoformat(),
            "ended": None,
            "pid": os.getpid(),
            "versions": dependency_versions(),
            "settings": changed_settings(self.crawler.settings),
            "recovered_runs": session.repairs() if session is not None else [],
        }
        if self.config.worker:
            self.manifest["worker"] = self.config.worker
        write_json_atomic(self.path, self.manifest)

    @property
    def path(self) -> Path:
        assert self.folder is not None
        return self.folder / worker_file(MANIFEST_FILENAME, self.config.worker)

    def check_run(self, stats: dict[str, Any]) -> None:
        """Checks that need only the stats; they run before the exit status is decided."""
        reason = str(stats.get("finish_reason", "unknown"))
        if reason in INTERRUPTED_REASONS:
            mark_failed(self.crawler, "interrupted")
        if any(k.startswith("spider_exceptions/") for k in stats):
            mark_failed(self.crawler, "spider_error")
        failed, attempted, ratio = error_ratio(stats)
        if failed and ratio > self.config.max_error_ratio:
            mark_failed(self.crawler, "error_ratio")
            logger.error(
                "%d of %d requested URLs failed (%.0f%%), more than NEWSARCHIVE_MAX_ERROR_RATIO=%s",
                failed,
                attempted,
                ratio * 100,
                self.config.max_error_ratio,
            )

    def engine_stopped(self) -> None:
        self.check_run(self.crawler.stats.get_stats())
        if self.folder is None:
            return
        stats = self.crawler.stats.get_stats()
        reason = str(stats.get("finish_reason", "unknown"))
        interrupted = reason != "finished" and not reason.startswith("closespider")
        failures = failure_reasons(stats)
        items = worker_file("items.jsonl", self.config.worker)
        self.manifest.update(
            status="interrupted" if interrupted else ("failed" if failures else "finished"),
            interrupted=interrupted,
            finish_reason=reason,
            ended=datetime.now(UTC).isoformat(),
            failures=failures,
            counts=run_counts(stats),
            warcs=warc_entries(self.folder, self.config.worker),
            items={"file": items, "count": count_lines(self.folder / items)},
        )
        self.manifest.pop("pid", None)
        write_json_atomic(self.path, self.manifest)
