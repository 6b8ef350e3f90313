"""``scrapy dataset <spider folder> -O articles.parquet``: every article of a spider, one file.

After a few scheduled runs a spider's articles are spread over many run folders (a run that found
nothing new has an empty ``items.jsonl``); this reads them all, as a stream, and writes one row per
article (its latest version) or, with ``--versions all``, one per version, typed by the item
schema (:mod:`newsarchive.dataset`). Unreadable lines are named on standard error and make the
exit status 1; every other line is still written.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

#: Unreadable lines listed one by one on standard error; the rest are only counted.
SHOWN_PROBLEMS = 20


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider folder> -O FILE.parquet|FILE.jsonl|FILE.csv [options]"

    def short_desc(self) -> str:
        return "Write every article of a spider's runs to one Parquet, JSONL or CSV file"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "-O", "--output", metavar="FILE", help="output file (.parquet, .jsonl or .csv)"
        )
        parser.add_argument(
            "--versions",
            choices=("latest", "all"),
            default="latest",
            help="one row per article, its latest version (default), or one per version",
        )
        parser.add_argument(
            "--since", metavar="DATE", help="only articles published on or after DATE (UTC day)"
        )
        parser.add_argument(
            "--site",
            action="append",
            default=[],
            metavar="HOST",
            help="only articles of this site (repeat, or comma-separate, for several)",
        )
        parser.add_argument(
            "--with-notice", action="store_true", help="only articles carrying a legal notice"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider output folder, e.g. output/rferl")
        if not opts.output:
            raise UsageError("give the output file with -O, e.g. -O articles.parquet")
        # Imported here: pyarrow is this command's alone, not every ``scrapy`` command line's.
        from newsarchive.dataset import (
            Filters,
            ReadReport,
            format_of,
            parse_day,
            select,
            write_dataset,
        )

        output = Path(opts.output)
        try:
            format_of(output)
            since = parse_day(opts.since) if opts.since else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        sites = frozenset(s.strip() for arg in opts.site for s in arg.split(",") if s.strip())
        filters = Filters(since=since, sites=sites, with_notice=opts.with_notice)
        report = ReadReport()
        started = time.monotonic()
        try:
            lines = select(
                Path(args[0]), all_versions=opts.versions == "all", filters=filters, report=report
            )
            written = write_dataset(lines, output, report)
        except FileNotFoundError as exc:
            raise UsageError(str(exc)) from None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(
            f"{output}: {written:,} rows ({opts.versions} versions) from {report.lines:,} item "
            f"lines in {report.runs} runs; {time.monotonic() - started:.1f} s, "
            f"peak RSS {peak:.0f} MiB"
        )
        for problem in report.problems[:SHOWN_PROBLEMS]:
            print(f"  skipped {problem}", file=sys.stderr)
        if report.problems:
            more = len(report.problems) - SHOWN_PROBLEMS
            if more > 0:
                print(f"  ... and {more} more lines skipped", file=sys.stderr)
            self.exitcode = 1
