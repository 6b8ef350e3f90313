"""``scrapy selfcheck <run folder>...``: the close-of-run self-check, on demand.

Checks what a run folder holds (WARCs, ``indexes/index.cdxj``, items, WACZ) and builds the index
and the WACZ only where they are missing, unless ``--rebuild``: a checker that silently rewrote a
stale index would hide the very problem it is there to find. Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--rebuild] <run folder> [<run folder> ...]"

    def short_desc(self) -> str:
        return "Check a run folder: warcio check, item provenance via CDXJ, WACZ validation"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="rebuild indexes/index.cdxj and the WACZ even if they exist",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("give at least one run folder (e.g. output/rferl/latest)")
        assert self.settings is not None
        # Imported here: the checker (cdxj-indexer and the WACZ tools) is this command's alone,
        # not every ``scrapy`` command line's.
        from newsarchive.archive.check import REPORT_FILE, selfcheck_run
        from newsarchive.extensions.selfcheck import options_from_settings

        options = replace(options_from_settings(self.settings), check=True, rebuild=opts.rebuild)
        failed = False
        for arg in args:
            folder = Path(arg)
            if not folder.is_dir():
                print(f"{folder}: not a folder (want a run folder such as output/rferl/latest)")
                failed = True
                continue
            report = selfcheck_run(folder.resolve(), options)
            print(f"{folder}: self-check {report.summary_line()}")
            for problem in report.problems[1:] if not report.passed else []:
                print(f"  {problem}")
            if not report.passed:
                print(f"  details: {folder / REPORT_FILE}")
                failed = True
        if failed:
            self.exitcode = 1
