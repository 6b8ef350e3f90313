"""The run's ``urls.jsonl`` out of a distributed run's workers' ``urls-<worker>.jsonl``.

A URL can appear in several workers' logs: scheduled by one (``pending/queued`` there), fetched
by another, its redirect followed by a third. Its line in the run's log is the one with the
strongest outcome, as the crawl's accounting ranks them. The run's ledger in Redis
(:mod:`newsarchive.cluster.ledger`) has the last word on the outcome: it holds what a SIGKILLed
worker did, whose log was never written. A requested URL no worker and no ledger gave a fate
is ``unaccounted``. Scrapy-free.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from newsarchive.items import UrlRecord, WarcPosition
from newsarchive.runfolder import worker_file
from newsarchive.urllog import URLS_FILE

#: Outcomes from strongest to weakest (as in the accounting extension), then no fate.
_LAST = ("pending", "unaccounted")


def _record(line: dict[str, Any]) -> UrlRecord:
    warc = line.get("warc")
    return UrlRecord(**{**line, "warc": WarcPosition(**warc) if warc else None})


def _worker_lines(folder: Path, workers: list[str]) -> Iterator[dict[str, Any]]:
    for worker in workers:
        path = folder / worker_file(URLS_FILE, worker)
        if path.is_file():
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)


def merged_records(
    folder: Path,
    workers: list[str],
    outcomes: tuple[str, ...],
    ledger: tuple[dict[str, tuple[str, str] | None], dict[str, str]] | None = None,
) -> list[UrlRecord]:
    """One record per URL of the run (see the module docstring); ``ledger``: (fates, dropped)."""
    rank = {name: i for i, name in enumerate((*outcomes, *_LAST))}
    requested: dict[str, dict[str, Any]] = {}
    dropped: dict[str, dict[str, Any]] = {}
    for line in _worker_lines(folder, workers):
        url = line["url"]
        if line["outcome"] == "not_requested":
            dropped.setdefault(url, line)
            continue
        best = requested.get(url)
        if best is None or rank.get(line["outcome"], 99) < rank.get(best["outcome"], 99):
            requested[url] = line
    if ledger is not None:
        fates, listed = ledger
        for url, fate in fates.items():
            line = requested.setdefault(url, {"url": url, "outcome": "unaccounted", "reason": None})
            if fate is not None:
                line["outcome"], line["reason"] = fate
        for url, reason in listed.items():
            dropped.setdefault(url, {"url": url, "outcome": "not_requested", "reason": reason})
    for line in requested.values():
        if line["outcome"] in _LAST:  # every worker stopped: nothing is pending any more
            line["outcome"], line["reason"] = "unaccounted", None
    records = [_record(line) for line in requested.values()]
    records += [_record(line) for url, line in dropped.items() if url not in requested]
    return records
