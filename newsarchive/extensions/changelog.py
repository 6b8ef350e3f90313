"""``changes.jsonl``: one line per article that changed, came back, or was found removed.

An item says what an article says now; this file says which articles moved in a run, each with
where its old and new versions are archived, so a reader of news edits starts from a short list
instead of comparing every item. Lines come through the
:data:`newsarchive.signals.article_changed` signal (the dedupe pipeline sends changed and
restored articles once their item line is written, the removal middleware sends removals);
each is written and flushed at once. Fields: ``kind`` (``changed``, ``restored``, ``removed``),
``article_key``, ``url``, ``old_version``, ``new_version`` (null for a removal), ``old_record``
and ``new_record`` (run, WARC file, offset, length, record id), ``changes`` (the item's field
summary; null for a removal), ``reason`` (removals: ``http_404``, ``http_410``, ``redirect``),
``fetched_at`` and ``run_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive import default_settings as defaults
from newsarchive.runfolder import run_folder
from newsarchive.signals import article_changed

FILENAME = "changes.jsonl"


@dataclass(frozen=True)
class ChangeLogConfig:
    output: str
    run_id: str


class ChangeLogExtension:
    """Write the run's ``changes.jsonl`` (created empty, so every run folder has one)."""

    def __init__(self, crawler: Crawler, config: ChangeLogConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.path: Path | None = None
        self._file: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ChangeLogExtension:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_CHANGELOG_ENABLED", defaults.NEWSARCHIVE_CHANGELOG_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_CHANGELOG_ENABLED is false")
        config = ChangeLogConfig(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
        )
        ext = cls(crawler, config)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.write, signal=article_changed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        folder = run_folder(self.config.output, spider.name, self.config.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / FILENAME
        self._file = self.path.open("a", encoding="utf-8")

    def spider_closed(self, spider: Spider) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, line: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps({**line, "run_id": self.config.run_id}, ensure_ascii=False))
        self._file.write("\n")
        self._file.flush()
        self.crawler.stats.inc_value(f"newsarchive/changelog/{line.get('kind', 'changed')}")
