"""What site-template learning does to body scores where a publisher has several pages.

The crawl learns a site's template from its article pages
(:mod:`newsarchive.extraction.template`). The corpora hold a few publishers with two or three
pages each (benchmark: by host; fundus: by publisher). For each such group, the template is
learned from all of the group's pages, as after a crawl of the site, and every page's text is
scored without and with it. The default rule needs 3 pages; ``min_pages=2`` shows what a looser
rule would do on the many 2-page publishers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from newsarchive.eval.corpora import BENCHMARK, FUNDUS, Page, benchmark_pages, fundus_pages
from newsarchive.extraction.extract import extract
from newsarchive.extraction.scoring import score
from newsarchive.extraction.template import PageBlocks, SiteTemplate, TemplateRule, strip_template


@dataclass(frozen=True)
class TemplateRow:
    """Scores of one corpus's multi-page publishers, without and with their learned template."""

    corpus: str
    min_pages: int
    publishers: int
    pages: int
    before: tuple[float, float, float]
    """Body precision, recall, F1 without a template."""
    after: tuple[float, float, float]
    pages_changed: int
    blocks_removed: int


def publisher(page: Page) -> str:
    """The benchmark page's host (``www.`` dropped), or the fundus page's publisher file."""
    if page.corpus == FUNDUS:
        return page.name.split("_", 1)[0]
    return (urlsplit(page.url).hostname or "").removeprefix("www.")


def _extract(page: Page) -> tuple[str, PageBlocks]:
    fields = extract(page.html, page.url, template=frozenset())
    return fields["text"], fields["page_blocks"]


def _scores(pairs: Iterable[tuple[str, str]]) -> tuple[float, float, float]:
    result = score(pairs)
    return result.precision, result.recall, result.f1


def _rows(
    corpus: str, pages: list[Page], min_pages_values: Iterable[int], workers: int
) -> list[TemplateRow]:
    groups: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        groups[publisher(page)].append(page)
    chosen = [p for group in groups.values() if len(group) >= 2 for p in group]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_extract, chosen, chunksize=2))
    else:
        results = [_extract(page) for page in chosen]
    extracted = {page.name: result for page, result in zip(chosen, results, strict=True)}
    rows = []
    for min_pages in min_pages_values:
        rule = TemplateRule(min_pages=min_pages)
        scored = [g for g in groups.values() if len(g) >= min_pages]
        before, after, changed, removed = [], [], 0, 0
        for group in scored:
            site = SiteTemplate(rule)
            for page in group:
                site.learn(extracted[page.name][1].hashes)
            template = site.blocks()
            for page in group:
                text, blocks = extracted[page.name]
                stripped, _ = strip_template(text, blocks, template)
                removed += sum(1 for key in blocks.in_text if key in template)
                changed += stripped != text
                before.append((page.truth["text"], text))
                after.append((page.truth["text"], stripped))
        rows.append(
            TemplateRow(
                corpus,
                min_pages,
                len(scored),
                len(before),
                _scores(before),
                _scores(after),
                changed,
                removed,
            )
        )
    return rows


def template_effect(
    root: Path, workers: int = 1, min_pages_values: Iterable[int] = (3, 2)
) -> list[TemplateRow]:
    """One row per corpus and rule (see the module docstring)."""
    values = list(min_pages_values)
    rows = _rows(BENCHMARK, list(benchmark_pages(root)), values, workers)
    fundus = [p for p in fundus_pages(root) if "text" in p.truth]
    return rows + _rows(FUNDUS, fundus, values, workers)


def format_rows(rows: list[TemplateRow]) -> str:
    """The rows as a Markdown table (what ``docs/quality.md`` quotes)."""
    lines = [
        "| corpus | rule: min pages | publishers (pages) | body P / R / F1 without template "
        "| with template | pages changed | blocks removed |",
        "|---|---:|---:|---|---|---:|---:|",
    ]
    for r in rows:
        before = " / ".join(f"{v:.4f}" for v in r.before) if r.pages else "–"
        after = " / ".join(f"{v:.4f}" for v in r.after) if r.pages else "–"
        lines.append(
            f"| {r.corpus} | {r.min_pages} | {r.publishers} ({r.pages}) | {before} | {after} "
            f"| {r.pages_changed} | {r.blocks_removed} |"
        )
    return "\n".join(lines)
