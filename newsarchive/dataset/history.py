"""Every item a spider has written, across its run folders, read as a stream.

A spider folder (``output/rferl``) holds one folder per run, each with its ``items.jsonl``; an
article appears once per version, in the run that found it changed. Choosing the latest version
per article takes two passes over the lines, with the winners kept in a temporary SQLite file,
not in memory: pass one records, per article key, the line of its highest version (a later line
wins a tie, and a line without a version, from a crawl without state, wins over an earlier one);
pass two walks the lines again in the same order alongside the winners sorted by position. So
memory stays flat however many runs and articles there are.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from newsarchive.dataset.columns import BadValue, parse_timestamp

ITEMS_FILE = "items.jsonl"


@dataclass(frozen=True)
class Line:
    """One item line: where it is, its bytes, and the parsed item."""

    position: int
    path: Path
    number: int
    raw: bytes
    item: dict[str, Any]


@dataclass(frozen=True)
class Filters:
    """What ``--since``, ``--site`` and ``--with-notice`` keep (applied to each chosen line)."""

    since: date | None = None
    sites: frozenset[str] = frozenset()
    with_notice: bool = False

    def keep(self, item: dict[str, Any]) -> bool:
        if self.sites and item.get("site") not in self.sites:
            return False
        if self.with_notice and not (item.get("legal_notice") or item.get("legal_notices")):
            return False
        if self.since is not None:
            published = item.get("published")
            if not published:  # no date: not known to be on or after the day asked for
                return False
            return parse_timestamp(published).date() >= self.since
        return True


@dataclass
class ReadReport:
    """What was read, and every line that could not be (file:line and why)."""

    runs: int = 0
    lines: int = 0
    problems: list[str] = field(default_factory=list)


def run_folders(spider_folder: Path) -> list[Path]:
    """The run folders holding an ``items.jsonl``, oldest first (run ids sort by start time).

    ``latest`` and any other symlink are skipped: they point at a run already listed.
    """
    if not spider_folder.is_dir():
        raise FileNotFoundError(
            f"{spider_folder} is not a folder: give a spider's output folder, e.g. output/rferl"
        )
    if (spider_folder / ITEMS_FILE).is_file():  # a single run folder works too
        return [spider_folder]
    return sorted(
        p
        for p in spider_folder.iterdir()
        if p.is_dir() and not p.is_symlink() and (p / ITEMS_FILE).is_file()
    )


def article_key(item: dict[str, Any]) -> str:
    """The article an item is a version of (``article_key``; older items: id or URL)."""
    return str(item.get("article_key") or item.get("article_id") or f"url:{item.get('url')}")


def read_lines(folders: list[Path], report: ReadReport) -> Iterator[Line]:
    """Every parsable item line of the folders, in run order; the others go to ``report``."""
    position = 0
    report.runs = len(folders)
    for folder in folders:
        path = folder / ITEMS_FILE
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                position += 1
                try:
                    item = json.loads(raw)
                except ValueError as exc:
                    report.problems.append(f"{path}:{number}: not a JSON line ({exc})")
                    continue
                if not isinstance(item, dict):
                    report.problems.append(f"{path}:{number}: not a JSON object")
                    continue
                report.lines += 1
                yield Line(position, path, number, raw, item)


def latest_versions(folders: list[Path], report: ReadReport) -> Iterator[Line]:
    """The latest version of each article, in the order the lines were written."""
    with tempfile.TemporaryDirectory(prefix="newsarchive-dataset-") as tmp:
        db = sqlite3.connect(Path(tmp) / "latest.sqlite")
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE best (key TEXT PRIMARY KEY, version INTEGER, pos INTEGER)")
            db.executemany(
                "INSERT INTO best VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                " version = excluded.version, pos = excluded.pos"
                " WHERE excluded.version IS NULL OR best.version IS NULL"
                " OR excluded.version >= best.version",
                (
                    (article_key(line.item), _version(line.item), line.position)
                    for line in read_lines(folders, report)
                ),
            )
            db.execute("CREATE INDEX best_pos ON best (pos)")
            db.commit()
            winners = (pos for (pos,) in db.execute("SELECT pos FROM best ORDER BY pos"))
            wanted = next(winners, None)
            # Pass one counted the lines and named the unreadable ones; pass two stops early.
            for line in read_lines(folders, ReadReport()):
                if wanted is None:
                    break
                if line.position == wanted:
                    yield line
                    wanted = next(winners, None)
        finally:
            db.close()


def _version(item: dict[str, Any]) -> int | None:
    version = item.get("version")
    return version if isinstance(version, int) else None


def select(
    spider_folder: Path, *, all_versions: bool, filters: Filters, report: ReadReport
) -> Iterator[Line]:
    """The lines ``scrapy dataset`` writes: every version or the latest, filtered."""
    folders = run_folders(spider_folder)
    lines = read_lines(folders, report) if all_versions else latest_versions(folders, report)
    for line in lines:
        try:
            keep = filters.keep(line.item)
        except BadValue as exc:
            report.problems.append(f"{line.path}:{line.number}: field 'published': {exc}")
            continue
        if keep:
            yield line


def parse_day(text: str) -> date:
    """``--since`` value: ``YYYY-MM-DD`` (or a full ISO date-time, whose UTC day is taken)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parse_timestamp(text).date()
    except BadValue:
        raise ValueError(f"--since {text!r}: give a day as YYYY-MM-DD") from None
