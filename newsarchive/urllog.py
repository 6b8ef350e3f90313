"""``urls.jsonl``: one line per URL a run discovered, saying what became of it.

The accounting extension (``newsarchive/extensions/accounting.py``) decides each URL's fate and
fills a :class:`UrlSeen` per requested URL; this module turns them into
:class:`~newsarchive.items.UrlRecord` lines, writes the file and counts the lines into the
accounting stats, so the file and the stats agree by construction. Heritrix's ``crawl.log``
is the model: "what happened to this URL?" has an answer for every URL, not only failed ones.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from newsarchive.items import UrlRecord, WarcPosition

#: The per-URL log in the run folder (one :class:`UrlRecord` per line).
URLS_FILE = "urls.jsonl"


@dataclass
class UrlSeen:
    """What the crawl observed of one requested URL, for its ``urls.jsonl`` line."""

    discovered_from: str | None = None
    status: int | None = None
    attempts: int = 0
    fetched_at: str | None = None
    redirects: list[str] = field(default_factory=list)
    warc: WarcPosition | None = None

    def record(self, url: str, outcome: str, reason: str | None) -> UrlRecord:
        return UrlRecord(url, outcome, reason, self.status, self.attempts, self.discovered_from,
                         self.fetched_at, list(self.redirects), self.warc)  # fmt: skip


def count_records(records: Iterable[UrlRecord]) -> tuple[Counter[str], Counter[str]]:
    """``outcome`` and ``outcome/reason`` counts of the requested URLs, and the reasons of the
    ones not requested: what the stats say, counted from the ``urls.jsonl`` lines."""
    counts: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for record in records:
        if record.outcome == "not_requested":
            dropped[record.reason or "unknown"] += 1
            continue
        counts[record.outcome] += 1
        if record.reason is not None:
            counts[f"{record.outcome}/{record.reason}"] += 1
    return counts, dropped


def write_records(path: Path, records: Iterable[UrlRecord]) -> None:
    """``urls.jsonl``, written whole under a temporary name then renamed into place."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
    tmp.replace(path)
