"""``scrapy crawl``, with an exit status cron can trust.

Scrapy's own command exits 0 whenever the crawler started, even when the spider raised or every
request failed. This one keeps all of Scrapy's behaviour and options, and exits

* ``1`` when the run failed: any reason recorded with :func:`newsarchive.runstatus.mark_failed`
  (robots.txt or a sitemap unreadable, error ratio over ``NEWSARCHIVE_MAX_ERROR_RATIO``, a site
  that listed articles last run listing none, interrupted), or the spider raised;
* ``2`` (usage) without crawling when a spider argument cannot be used: one line on stderr
  naming the argument and what it accepts (:mod:`newsarchive.arguments`);
* ``75`` (EX_TEMPFAIL) without crawling when another run of the same spider holds the output's
  lock (distributed: a single-machine run holds it, or a worker with the same id runs).
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from newsarchive import default_settings as defaults
from newsarchive.arguments import EXIT_USAGE, ArgumentError
from newsarchive.extensions.runlock import EXIT_LOCKED, lock_path, probe, worker_lock_path
from newsarchive.runfolder import run_folder, worker_of
from newsarchive.runstatus import failure_reasons

EXIT_FAILED = 1


class Command(ScrapyCrawlCommand):
    def long_desc(self) -> str:
        return (
            "Run a spider of the current project. Exit status: 0 when the run succeeded, "
            f"{EXIT_FAILED} when it failed (see the log and manifest.json for why), "
            f"{EXIT_USAGE} when a spider argument cannot be used, "
            f"{EXIT_LOCKED} when another run of the spider holds the output's lock."
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        spname = args[0]
        assert self.crawler_process is not None and self.settings is not None
        output = self.settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT)
        if self.settings.getbool(
            "NEWSARCHIVE_RUNLOCK_ENABLED", defaults.NEWSARCHIVE_RUNLOCK_ENABLED
        ):
            path = lock_path(output, spname)
            worker = worker_of(self.settings)  # distributed workers share the spider's lock
            holder = probe(path, shared=worker is not None)
            if holder is None and worker is not None:
                run_id = self.settings.get("NEWSARCHIVE_RUN_ID") or "run"
                path = worker_lock_path(run_folder(output, spname, run_id), worker)
                holder = probe(path)
            if holder is not None:
                print(
                    f"newsarchive: not starting: another run of spider {spname!r} on output "
                    f"{output!r} is running ({holder}; lock file {path}).",
                    file=sys.stderr,
                )
                self.exitcode = EXIT_LOCKED
                return
        crawler = self._create_crawler(spname)
        check = getattr(crawler.spidercls, "check_arguments", None)
        if check is not None:
            try:
                check(**opts.spargs)
            except ArgumentError as exc:
                print(f"scrapy crawl {spname}: {exc}", file=sys.stderr)
                self.exitcode = EXIT_USAGE
                return
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
            return
        stats = crawler.stats.get_stats() if crawler.stats is not None else {}
        reasons = failure_reasons(stats)
        if any(key.startswith("spider_exceptions/") for key in stats):
            reasons = sorted({*reasons, "spider_error"})
        if reasons:
            print(f"newsarchive: run failed: {', '.join(reasons)}", file=sys.stderr)
            self.exitcode = EXIT_FAILED
