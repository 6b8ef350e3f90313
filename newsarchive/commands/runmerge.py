"""``scrapy runmerge <run folder>``: one run out of a distributed run's workers.

Run it once every worker of the run has stopped, where all their files are (copy the run folders
of several machines into one first: every worker's files have their own names). Writes
``items.jsonl``, ``errors.jsonl``, ``stats.json``, ``manifest.json``, the CDXJ index, the WACZ
and ``selfcheck.json`` (:mod:`newsarchive.runmerge`). The run's accounting comes from its ledger
in Redis (``-s NEWSARCHIVE_DISTRIBUTED=redis://...``, else the address the workers recorded).

Exit status: 0 merged and sound; 1 a problem (a worker failed, an article in two items, a URL
without a fate, the self-check); 75 a worker still holds its lock (EX_TEMPFAIL, try later).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsarchive import default_settings as defaults
from newsarchive.cluster import Ledger, RunKeys, connect
from newsarchive.extensions.accounting import OUTCOMES
from newsarchive.extensions.runlock import EXIT_LOCKED, probe, worker_lock_path
from newsarchive.runfolder import worker_file


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<run folder>"

    def short_desc(self) -> str:
        return "Merge a distributed run's workers into one manifest, index, WACZ and accounting"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one run folder (e.g. output/rferl/backfill-2026-12)")
        folder = Path(args[0]).resolve()
        if not folder.is_dir():
            raise UsageError(f"{args[0]}: not a folder (want a distributed run's folder)")
        assert self.settings is not None
        # Imported here: the checker (cdxj-indexer and the WACZ tools) is this command's alone,
        # not every ``scrapy`` command line's.
        from newsarchive.extensions.selfcheck import options_from_settings
        from newsarchive.runmerge import merge_run, summary

        options = replace(options_from_settings(self.settings), check=True, rebuild=True)
        report = merge_run(
            folder,
            replace(options, build_cdxj=True, build_wacz=True),
            is_running=lambda worker: probe(worker_lock_path(folder, worker)) is not None,
            outcomes=OUTCOMES,
            ledger=self.ledger(folder),
            max_report_articles=self.settings.getint(
                "NEWSARCHIVE_REPORT_MAX_ARTICLES", defaults.NEWSARCHIVE_REPORT_MAX_ARTICLES
            ),
        )
        print(summary(report))
        if report.running:
            self.exitcode = EXIT_LOCKED
        elif not report.passed:
            self.exitcode = 1

    def ledger(
        self, folder: Path
    ) -> tuple[dict[str, tuple[str, str] | None], dict[str, str]] | None:
        """The run's fates from Redis, or None (then the workers' own logs stand)."""
        assert self.settings is not None
        url = self.settings.get("NEWSARCHIVE_DISTRIBUTED") or _recorded_url(folder)
        if not url:
            print("accounting: no NEWSARCHIVE_DISTRIBUTED given: from the workers' own logs")
            return None
        try:
            client = connect(url)
        except (ValueError, ConnectionError) as exc:
            print(f"accounting: {exc}; from the workers' own logs")
            return None
        try:
            fates, dropped = Ledger(client, RunKeys(folder.parent.name, folder.name)).read()
        finally:
            client.close()
        return (fates, dropped) if fates else None


def _recorded_url(folder: Path) -> str | None:
    """The Redis address a worker ran with (not one whose password the manifest hid)."""
    from newsarchive.runmerge import worker_ids

    for worker in worker_ids(folder):
        manifest = json.loads((folder / worker_file("manifest.json", worker)).read_text("utf-8"))
        url = (manifest.get("settings") or {}).get("NEWSARCHIVE_DISTRIBUTED")
        if url and "***" not in url:
            return str(url)
    return None
