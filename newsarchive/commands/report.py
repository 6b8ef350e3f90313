"""``scrapy report <run folder>...``: (re)write a run's ``report.html`` from its files.

Every run writes its report at the end; this builds it for runs made before there was one, or
again after ``scrapy selfcheck`` rewrote ``selfcheck.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsarchive import default_settings as defaults
from newsarchive.report import write_report


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<run folder> [<run folder> ...]"

    def short_desc(self) -> str:
        return "Write report.html for run folders (summary, charts, errors, WARCs, articles)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("give at least one run folder (e.g. output/rferl/latest)")
        assert self.settings is not None
        limit = self.settings.getint(
            "NEWSARCHIVE_REPORT_MAX_ARTICLES", defaults.NEWSARCHIVE_REPORT_MAX_ARTICLES
        )
        for arg in args:
            folder = Path(arg)
            if not (folder / "manifest.json").is_file():
                print(f"{folder}: no manifest.json (want a run folder such as output/rferl/latest)")
                self.exitcode = 1
                continue
            print(write_report(folder, limit))
