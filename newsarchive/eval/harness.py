"""Score both systems on every corpus page and format the comparison table.

Metrics (each computed the same way for both systems, on the same pages):

* body: the article-extraction-benchmark's 4-token-shingle precision, recall and F1
  (:mod:`newsarchive.extraction.scoring`); on fundus pages the truth is its summary, section
  headlines and paragraphs joined.
* title: exact after Unicode NFC and whitespace collapsing (the item's own convention: a trailing
  space in a publisher's title is not a different title), so site-name suffixes still count.
* authors: the same names in the same order, compared the same way.
* published date: the predicted date equals the truth's date in its own time zone or in UTC
  (a date-only prediction cannot know which one the truth meant).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trafilatura

from newsarchive.eval.corpora import (
    BENCHMARK,
    FUNDUS,
    PANGEA,
    Page,
    benchmark_pages,
    fundus_pages,
    pangea_pages,
)
from newsarchive.eval.systems import SYSTEMS, Prediction, predict
from newsarchive.extraction.scoring import f1_document, score
from newsarchive.extraction.text import clean_space

#: The issue's targets for our pipeline (``bench/quality_floors.json`` pins what is reached).
TARGETS = {
    f"{BENCHMARK}/body_f1": 0.97,
    f"{FUNDUS}/title_exact": 0.95,
    f"{FUNDUS}/authors": 0.95,
    f"{FUNDUS}/published_date": 0.99,
    f"{PANGEA}/body_f1": 0.99,
    f"{PANGEA}/fields": 1.0,
}
#: Per-page body F1 a Pangea page must reach for its ``text`` field to count as right.
PANGEA_TEXT_F1 = 0.99


@dataclass
class Report:
    """Metric values per system (``metrics[system][name]``), page counts, every miss, the pages
    a system failed on (``errors``: scored as wrong, not dropped) and the corpus entries that
    could not be scored at all (``skipped``, with the reason)."""

    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    misses: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def normalize(value: str | None) -> str:
    return unicodedata.normalize("NFC", clean_space(value))


def _texts(page: Page, prediction: Prediction) -> tuple[str, str]:
    """Truth and predicted body, both NFC: a page written in decomposed form (NFD) has a truth
    in NFD, and ``\\w+`` splits ``u`` + combining diaeresis into two tokens; the scores should
    not depend on which form a system returns (items are NFC)."""
    return (
        unicodedata.normalize("NFC", page.truth["text"]),
        unicodedata.normalize("NFC", prediction.text or ""),
    )


def title_ok(truth: str, got: str | None) -> bool:
    return normalize(truth) == normalize(got)


def authors_ok(truth: list[str], got: list[str]) -> bool:
    return [normalize(a) for a in truth] == [normalize(a) for a in got if normalize(a)]


def truth_days(value: str) -> set[str]:
    """The truth's date in its own time zone and in UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return {value.strip()[:10]}
    days = {moment.date().isoformat()}
    if moment.tzinfo is not None:
        days.add(moment.astimezone(UTC).date().isoformat())
    return days


def date_ok(truth: str, got: str | None) -> bool:
    return bool(got) and str(got)[:10] in truth_days(truth)


def _predict_page(page: Page) -> tuple[Page, dict[str, Prediction]]:
    return page, {system: predict(system, page.html, page.url) for system in SYSTEMS}


def _run(pages: Iterable[Page], workers: int) -> list[tuple[Page, dict[str, Prediction]]]:
    if workers <= 1:
        return [_predict_page(page) for page in pages]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_predict_page, pages, chunksize=4))


def _note_errors(corpus: str, results, report: Report) -> None:
    for page, preds in results:
        for system, prediction in preds.items():
            if prediction.error:
                report.errors[system].append(f"{corpus} {page.name}: {prediction.error}")


def _rate(hits: list[bool]) -> float:
    return sum(hits) / len(hits) if hits else 0.0


def _score_benchmark(results, report: Report) -> None:
    report.pages[BENCHMARK] = len(results)
    for system in SYSTEMS:
        scores = score(_texts(page, preds[system]) for page, preds in results)
        report.metrics[system].update(
            {
                f"{BENCHMARK}/body_precision": scores.precision,
                f"{BENCHMARK}/body_recall": scores.recall,
                f"{BENCHMARK}/body_f1": scores.f1,
            }
        )
        report.misses[system] += [
            f"{BENCHMARK} {page.name} body F1 {f1:.3f} {page.url}"
            for page, preds in results
            if (f1 := f1_document(*_texts(page, preds[system]))) < 0.9
        ]


def _score_fundus(results, report: Report) -> None:
    report.pages[FUNDUS] = len(results)
    for system in SYSTEMS:
        hits: dict[str, list[bool]] = {"title_exact": [], "authors": [], "published_date": []}
        misses = report.misses[system]
        for page, preds in results:
            truth, got = page.truth, preds[system]
            checks = {
                "title_exact": ("title", title_ok, got.title),
                "authors": ("authors", authors_ok, got.authors),
                "published_date": ("published", date_ok, got.published),
            }
            for metric, (key, check, value) in checks.items():
                if key not in truth:
                    continue
                ok = check(truth[key], value)
                hits[metric].append(ok)
                if not ok:
                    misses.append(f"{FUNDUS} {page.name} {key}: want {truth[key]!r} got {value!r}")
        metrics = report.metrics[system]
        for metric, values in hits.items():
            metrics[f"{FUNDUS}/{metric}"] = _rate(values)
        body = score(_texts(page, preds[system]) for page, preds in results)
        metrics[f"{FUNDUS}/body_f1"] = body.f1


def pangea_checks(truth: dict[str, Any], got: Prediction) -> dict[str, bool]:
    """Every field the truth states, right or wrong (``text`` by body F1)."""
    checks: dict[str, bool] = {}
    if "title" in truth:
        checks["title"] = title_ok(truth["title"], got.title)
    if "authors" in truth:
        checks["authors"] = authors_ok(truth["authors"], got.authors)
    if "published" in truth:
        checks["published"] = date_ok(truth["published"], got.published)
    if "tags" in truth:
        checks["tags"] = authors_ok(truth["tags"], got.tags)
    if "text" in truth:
        checks["text"] = (
            f1_document(normalize(truth["text"]), normalize(got.text)) >= PANGEA_TEXT_F1
        )
    if "text_starts" in truth:
        checks["text_starts"] = clean_space(got.text).startswith(truth["text_starts"])
    if "text_ends" in truth:
        checks["text_ends"] = clean_space(got.text).endswith(truth["text_ends"])
    return checks


def _score_pangea(results, report: Report) -> None:
    report.pages[PANGEA] = len(results)
    for system in SYSTEMS:
        fields: list[bool] = []
        for page, preds in results:
            for name, ok in pangea_checks(page.truth, preds[system]).items():
                fields.append(ok)
                if not ok:
                    report.misses[system].append(f"{PANGEA} {page.name} {name}")
        with_text = [_texts(p, preds[system]) for p, preds in results if "text" in p.truth]
        report.metrics[system][f"{PANGEA}/body_f1"] = score(with_text).f1
        report.metrics[system][f"{PANGEA}/fields"] = _rate(fields)
        report.metrics[system][f"{PANGEA}/field_checks"] = float(len(fields))


def evaluate(
    root: Path, workers: int | None = None, split: str | None = None, split_by: str = "page"
) -> Report:
    """Run both systems over the three corpora under ``root`` (read in place).

    ``split`` (``dev`` or ``heldout``) scores only that half of the fundus pages (the corpus the
    title and author heuristics are tuned on); the benchmark and Pangea pages are always whole.
    """
    root = Path(root)
    missing = [c for c in (BENCHMARK, FUNDUS, PANGEA) if not (root / c).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"corpus folder(s) {', '.join(missing)} not found under {root}: pass --corpora DIR "
            "or set NEWSARCHIVE_CORPORA to the shared corpora"
        )
    workers = workers if workers is not None else (os.cpu_count() or 1)
    report = Report(
        metrics={s: {} for s in SYSTEMS},
        misses={s: [] for s in SYSTEMS},
        errors={s: [] for s in SYSTEMS},
    )
    corpora = (
        (BENCHMARK, benchmark_pages(root, report.skipped), _score_benchmark),
        (FUNDUS, fundus_pages(root, split, report.skipped, split_by), _score_fundus),
        (PANGEA, pangea_pages(root, report.skipped), _score_pangea),
    )
    for corpus, pages, score_corpus in corpora:
        results = _run(pages, workers)
        _note_errors(corpus, results, report)
        score_corpus(results, report)
    return report


_ROWS = (
    (BENCHMARK, "body_precision", "body precision (4-token shingles)"),
    (BENCHMARK, "body_recall", "body recall"),
    (BENCHMARK, "body_f1", "body F1"),
    (FUNDUS, "title_exact", "exact title"),
    (FUNDUS, "authors", "author list"),
    (FUNDUS, "published_date", "publication date (day)"),
    (FUNDUS, "body_f1", "body F1 (joined paragraphs)"),
    (PANGEA, "body_f1", "body F1"),
    (PANGEA, "fields", "fields right"),
)


def format_table(report: Report) -> str:
    """The comparison as a Markdown table (what ``docs/quality.md`` quotes)."""
    lines = [
        f"| corpus (pages) | metric | newsarchive | trafilatura {trafilatura.__version__} "
        "(defaults) | target |",
        "|---|---|---:|---:|---:|",
    ]
    for corpus, metric, label in _ROWS:
        key = f"{corpus}/{metric}"
        ours = report.metrics["newsarchive"].get(key)
        if ours is None:
            continue
        plain = report.metrics["trafilatura"].get(key, 0.0)
        target = TARGETS.get(key)
        where = f"{corpus} ({report.pages.get(corpus, 0)})"
        if metric == "fields":
            checks = int(report.metrics["newsarchive"].get(f"{PANGEA}/field_checks", 0))
            label = f"{label} (of {checks})"
        lines.append(
            f"| {where} | {label} | {ours:.4f} | {plain:.4f} | "
            f"{'' if target is None else f'>= {target:.2f}'} |"
        )
    return "\n".join(lines)
