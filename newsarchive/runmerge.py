"""Merge the workers' files of a distributed run folder into one run: ``scrapy runmerge``.

Each worker of a distributed run wrote its own WARCs (``<prefix>-<worker>-<run id>-*.warc.gz``),
``items-<worker>.jsonl``, ``errors-<worker>.jsonl``, ``stats-<worker>.json`` and
``manifest-<worker>.json`` and ``urls-<worker>.jsonl``. Once every worker has stopped (their
``worker-<id>.lock`` files are free), the merge writes what a single-machine run folder holds:
``items.jsonl`` and ``errors.jsonl`` (the workers' lines, worker by worker), ``urls.jsonl``
(:mod:`newsarchive.urlmerge`, with the run's ledger in Redis when it is reachable),
``stats.json`` (the workers' counts summed, the accounting counted from ``urls.jsonl``), one
CDXJ index, one WACZ and ``selfcheck.json`` (:func:`newsarchive.archive.check.selfcheck_run`),
one ``manifest.json`` and ``report.html``. It also checks the exactly-once promise: no article
in two items of one version. The workers' own files stay as they are. Scrapy-free.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.archive.check import SelfCheckOptions, SelfCheckReport, selfcheck_run, wacz_path
from newsarchive.archive.repair import repair_worker_files
from newsarchive.items import UrlRecord
from newsarchive.report import write_report
from newsarchive.runfolder import worker_file
from newsarchive.urllog import URLS_FILE, count_records, write_records
from newsarchive.urlmerge import merged_records

MANIFEST_VERSION = 1
ACCOUNTING_PREFIX = "newsarchive/accounting/"
_WORKER_MANIFEST = re.compile(r"^manifest-([a-z0-9][a-z0-9.-]*)\.json$")


@dataclass
class MergeReport:
    """What the merge found and wrote; ``problems`` make ``scrapy runmerge`` exit 1."""

    folder: Path
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    running: list[str] = field(default_factory=list)
    items: int = 0
    duplicates: list[str] = field(default_factory=list)
    accounting: dict[str, int] = field(default_factory=dict)
    accounting_source: str = "workers"
    selfcheck: SelfCheckReport | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and not self.running


def worker_ids(folder: Path) -> list[str]:
    """The workers that wrote into ``folder`` (one ``manifest-<worker>.json`` each)."""
    found = (_WORKER_MANIFEST.match(path.name) for path in folder.iterdir())
    return sorted(match.group(1) for match in found if match)


def concatenate(folder: Path, name: str, workers: list[str]) -> int:
    """``name`` (``items.jsonl``) from the workers' ``items-<worker>.jsonl``: lines written."""
    lines = 0
    tmp = folder / f".{name}.merge"
    with open(tmp, "wb") as out:
        for worker in workers:
            part = folder / worker_file(name, worker)
            if not part.is_file():
                continue
            with open(part, "rb") as fh:
                for line in fh:
                    if line.strip():
                        out.write(line if line.endswith(b"\n") else line + b"\n")
                        lines += 1
    os.replace(tmp, folder / name)
    return lines


def duplicate_articles(items: Path) -> list[str]:
    """Article keys with two items of one version: the exactly-once promise broken."""
    seen: Counter[tuple[str, int]] = Counter()
    with open(items, encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            key = item.get("article_key") or item.get("article_id") or item.get("url")
            seen[(str(key), int(item.get("version") or 1))] += 1
    return sorted(
        f"{key} (version {version}: {n} items)" for (key, version), n in seen.items() if n > 1
    )


def summed_stats(folder: Path, workers: list[str]) -> dict[str, Any]:
    """The workers' numeric stats, summed (counts are additive; times and reasons are not)."""
    total: dict[str, Any] = {}
    for worker in workers:
        path = folder / worker_file("stats.json", worker)
        if not path.is_file():
            continue
        for key, value in json.loads(path.read_text("utf-8")).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total


def accounting_stats(records: list[UrlRecord], outcomes: tuple[str, ...]) -> dict[str, int]:
    """The ``newsarchive/accounting/...`` stats, counted from the run's URL records."""
    counts, dropped = count_records(records)
    requested = sum(1 for record in records if record.outcome != "not_requested")
    stats = {
        "discovered": len(records),
        "requested": requested,
        "not_requested": sum(dropped.values()),
        "pending": 0,
        "unaccounted": counts.get("unaccounted", 0),
    }
    stats.update({key: counts.get(key, 0) for key in outcomes})
    stats.update({key: n for key, n in counts.items() if "/" in key})
    stats.update({f"not_requested/{why}": n for why, n in dropped.items()})
    return {ACCOUNTING_PREFIX + key: value for key, value in stats.items()}


def merge_run(
    folder: Path,
    options: SelfCheckOptions,
    is_running: Any,
    outcomes: tuple[str, ...],
    ledger: tuple[dict[str, tuple[str, str] | None], dict[str, str]] | None = None,
    max_report_articles: int = 1000,
) -> MergeReport:
    """Merge ``folder`` (see the module docstring). ``is_running(worker)`` says whether a worker
    still holds its lock; ``ledger``: the run's (fates, not requested) from Redis, if reachable."""
    report = MergeReport(folder=folder)
    workers = worker_ids(folder)
    if not workers:
        report.problems.append(f"{folder}: no manifest-<worker>.json: not a distributed run folder")
        return report
    report.running = [worker for worker in workers if is_running(worker)]
    if report.running:
        return report
    for worker in workers:
        manifest = json.loads((folder / worker_file("manifest.json", worker)).read_text("utf-8"))
        if manifest.get("status") == "running":  # died, and no worker of the run recovered it
            repair = repair_worker_files(folder, worker)
            manifest.update(status="killed", interrupted=True, repair=repair.as_dict())
        report.workers[worker] = manifest
        failures = [f for f in manifest.get("failures") or [] if f != "interrupted"]
        if manifest.get("status") in ("failed", "interrupted") or failures:
            report.problems.append(
                f"worker {worker}: {manifest.get('status')} ({', '.join(failures) or 'no reason'})"
            )
    report.items = concatenate(folder, "items.jsonl", workers)
    concatenate(folder, "errors.jsonl", workers)
    report.duplicates = duplicate_articles(folder / "items.jsonl")
    for duplicate in report.duplicates[:20]:
        report.problems.append(f"article in two items: {duplicate}")
    stats = summed_stats(folder, workers)
    records = merged_records(folder, workers, outcomes, ledger)
    write_records(folder / URLS_FILE, records)
    report.accounting_source = "ledger" if ledger is not None else "workers"
    for key in [k for k in stats if k.startswith(ACCOUNTING_PREFIX)]:
        del stats[key]
    stats.update(accounting_stats(records, outcomes))
    report.accounting = {
        key.removeprefix(ACCOUNTING_PREFIX): value
        for key, value in stats.items()
        if key.startswith(ACCOUNTING_PREFIX)
    }
    if report.accounting.get("unaccounted"):
        report.problems.append(
            f"{report.accounting['unaccounted']} URLs without a fate (urls.jsonl: unaccounted)"
        )
    report.selfcheck = selfcheck_run(folder, options)
    if not report.selfcheck.passed:
        report.problems.extend(f"self-check: {p}" for p in report.selfcheck.problems[:20])
    stats["newsarchive/selfcheck/summary"] = report.selfcheck.summary_line()
    _write_json(folder / "stats.json", stats)
    _write_json(folder / "manifest.json", merged_manifest(report, stats))
    write_report(folder, max_report_articles, stats=stats)
    return report


def merged_manifest(report: MergeReport, stats: dict[str, Any]) -> dict[str, Any]:
    """``manifest.json`` of the merged run: its workers, files, accounting and verdict."""
    folder = report.folder
    workers = report.workers
    selfcheck = report.selfcheck
    wacz = wacz_path(folder)
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": folder.name,
        "spider": folder.parent.name,
        "distributed": True,
        "status": "finished" if report.passed else "failed",
        "merged": datetime.now(UTC).isoformat(),
        "started": min((w.get("started") or "" for w in workers.values()), default=None),
        "ended": max((w.get("ended") or "" for w in workers.values()), default=None),
        "workers": {
            worker: {
                key: manifest.get(key)
                for key in ("status", "finish_reason", "failures", "counts", "items", "warcs")
            }
            for worker, manifest in workers.items()
        },
        "counts": _summed_counts(workers),
        "accounting": {"source": report.accounting_source, **report.accounting},
        "items": {"file": "items.jsonl", "count": report.items},
        "warcs": [entry for manifest in workers.values() for entry in manifest.get("warcs") or []],
        "wacz": wacz.name if wacz.exists() else None,
        "selfcheck": selfcheck.summary_line() if selfcheck is not None else None,
        "failures": report.problems,
        "responses": stats.get("downloader/response_count", 0),
    }


def _summed_counts(workers: dict[str, dict[str, Any]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for manifest in workers.values():
        for key, value in (manifest.get("counts") or {}).items():
            if isinstance(value, int):
                total[key] += value
    return dict(total)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.merge")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n", "utf-8")
    os.replace(tmp, path)


def summary(report: MergeReport) -> str:
    """What ``scrapy runmerge`` prints."""
    folder = report.folder
    if report.running:
        return f"{folder}: workers still running ({', '.join(report.running)}): not merged"
    statuses = Counter(str(m.get("status")) for m in report.workers.values())
    acc = report.accounting
    lines = [
        f"merged run {folder.name}: {len(report.workers)} workers "
        f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})",
        f"  items:           {report.items} in {folder / 'items.jsonl'}"
        f" ({len(report.duplicates)} articles in two items)",
        f"  accounted URLs:  {acc.get('requested', 0)} = {acc.get('item', 0)} items"
        f" + {acc.get('unchanged', 0)} unchanged + {acc.get('error', 0)} errors"
        f" + {acc.get('not_article', 0)} not articles + {acc.get('skipped', 0)} skipped"
        f" + {acc.get('duplicate', 0)} duplicates"
        + (f"   UNACCOUNTED: {acc['unaccounted']}" if acc.get("unaccounted") else "")
        + f" (from the {report.accounting_source})",
    ]
    if report.selfcheck is not None:
        lines.append(f"  self-check:      {report.selfcheck.summary_line()}")
    if report.problems:
        lines.append(f"  MERGE FAILED:    {report.problems[0]}")
        lines.extend(f"                   {p}" for p in report.problems[1:10])
    return "\n".join(lines)
