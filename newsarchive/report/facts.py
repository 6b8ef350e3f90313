"""What a run's report shows, read from the files the run left (no Scrapy, no crawl needed).

Everything comes from the run folder: ``manifest.json`` (status, counts, WARC files),
``stats.json`` (the accounting of every URL), ``selfcheck.json``, ``errors.jsonl`` and
``items.jsonl``, which is streamed: the per-site, per-day and notice counts cover every item,
while only the first ``max_articles`` are listed with their text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: URL outcomes of the accounting (extensions/accounting.py), in its order, with words for people.
OUTCOMES = {
    "item": "became an article item",
    "unchanged": "article unchanged since an earlier run",
    "error": "failed (listed under Errors)",
    "requisite": "page requisite archived (stylesheets, fonts, images, icons)",
    "not_article": "archived, not an article (sitemaps, robots.txt, media pages...)",
    "skipped": "skipped (robots.txt or off-site)",
    "duplicate": "duplicate of another request",
    "pending": "pending: the run stopped before it got to them",
    "unaccounted": "unaccounted for (a bug)",
}
#: URLs listed per error group; the rest are counted.
URLS_PER_ERROR = 100


@dataclass
class Article:
    """One listed article: what the table and its text block show."""

    number: int
    title: str
    url: str
    site: str
    published: str | None
    version: int | None
    text: str
    notice: str | None
    warc: dict[str, Any] | None


@dataclass
class ErrorGroup:
    phase: str
    reason: str
    count: int = 0
    urls: list[tuple[str, str]] = field(default_factory=list)  # (url, detail)


@dataclass
class RunFacts:
    folder: Path
    manifest: dict[str, Any]
    stats: dict[str, Any]
    selfcheck: dict[str, Any] | None
    items: int = 0
    per_site: Counter[str] = field(default_factory=Counter)
    per_day: Counter[str] = field(default_factory=Counter)  # YYYY-MM-DD, "" = no date
    notices: Counter[tuple[str, str]] = field(default_factory=Counter)  # (site, kind)
    articles: list[Article] = field(default_factory=list)
    errors: list[ErrorGroup] = field(default_factory=list)
    unreadable_lines: int = 0

    @property
    def outcomes(self) -> list[tuple[str, int]]:
        """(outcome, URLs) of the accounting, the outcomes the run had."""
        prefix = "newsarchive/accounting/"
        return [
            (name, int(self.stats.get(prefix + name, 0)))
            for name in OUTCOMES
            if self.stats.get(prefix + name)
        ]

    def outcome_reasons(self, outcome: str) -> list[tuple[str, int]]:
        prefix = f"newsarchive/accounting/{outcome}/"
        return sorted(
            ((k[len(prefix) :], int(v)) for k, v in self.stats.items() if k.startswith(prefix)),
            key=lambda kv: (-kv[1], kv[0]),
        )


def _json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _lines(path: Path, facts: RunFacts) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                facts.unreadable_lines += 1
                continue
            if isinstance(value, dict):
                yield value


def gather(folder: Path, max_articles: int, stats: dict[str, Any] | None = None) -> RunFacts:
    """Read a run folder into :class:`RunFacts` (``stats``: the live ones, else ``stats.json``)."""
    facts = RunFacts(
        folder=folder,
        manifest=_json(folder / "manifest.json") or {},
        stats=stats if stats is not None else _json(folder / "stats.json") or {},
        selfcheck=_json(folder / "selfcheck.json"),
    )
    for item in _lines(folder / "items.jsonl", facts):
        facts.items += 1
        site = str(item.get("site") or "?")
        facts.per_site[site] += 1
        published = item.get("published") or ""
        facts.per_day[published[:10]] += 1
        kinds = {n.get("kind") for n in item.get("legal_notices") or [] if isinstance(n, dict)}
        if item.get("legal_notice"):
            kinds.add(item["legal_notice"].get("kind"))
        for kind in kinds:
            facts.notices[site, str(kind)] += 1
        if len(facts.articles) < max_articles:
            notice = item.get("legal_notice")
            facts.articles.append(
                Article(
                    number=facts.items,
                    title=item.get("title") or item.get("url", ""),
                    url=item.get("url", ""),
                    site=site,
                    published=item.get("published"),
                    version=item.get("version"),
                    text=item.get("text") or "",
                    notice=notice.get("text") if isinstance(notice, dict) else None,
                    warc=item.get("warc") if isinstance(item.get("warc"), dict) else None,
                )
            )
    groups: dict[tuple[str, str], ErrorGroup] = {}
    for error in _lines(folder / "errors.jsonl", facts):
        key = (str(error.get("phase", "?")), str(error.get("reason", "?")))
        group = groups.setdefault(key, ErrorGroup(*key))
        group.count += 1
        if len(group.urls) < URLS_PER_ERROR:
            group.urls.append((str(error.get("url", "")), str(error.get("detail", ""))))
    facts.errors = sorted(groups.values(), key=lambda g: (-g.count, g.phase, g.reason))
    return facts
