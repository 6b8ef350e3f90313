"""Body-extraction quality: the 4-token-shingle F1 of scrapinghub's article-extraction-benchmark.

Reimplemented here (not imported) so tests and ``bench/`` score exactly as the published table:
``\\w+`` tokens, multisets of 4-token shingles, tp/fp/fn normalised per document so long pages do
not dominate, precision and recall averaged over documents, F1 from those two means.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Match:
    """Normalised shingle counts of one document (``tp + fp + fn == 1`` unless both are empty)."""

    tp: float
    fp: float
    fn: float


@dataclass(frozen=True)
class Scores:
    """Corpus-level scores, as the benchmark's ``evaluate.py`` reports them."""

    precision: float
    recall: float
    f1: float
    documents: int


def tokens(text: str | None) -> list[str]:
    """The benchmark's tokenisation: every ``\\w+`` run."""
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of ``n``-token shingles; a text shorter than ``n`` tokens is one short shingle."""
    toks = tokens(text)
    return Counter(
        tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i : i + n]
    )


def match(true: str | None, pred: str | None, n: int = 4) -> Match:
    """Shingle tp/fp/fn of one prediction against its ground truth."""
    t, p = shingles(true, n), shingles(pred, n)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    if total == 0:
        return Match(0.0, 0.0, 0.0)
    return Match(tp / total, fp / total, fn / total)


def _precision(m: Match) -> float:
    if m.fp == m.fn == 0:
        return 1.0
    return 0.0 if m.tp == m.fp == 0 else m.tp / (m.tp + m.fp)


def _recall(m: Match) -> float:
    if m.fp == m.fn == 0:
        return 1.0
    return 0.0 if m.tp == m.fn == 0 else m.tp / (m.tp + m.fn)


def f1_document(true: str | None, pred: str | None) -> float:
    """F1 of a single document (convenient for per-page reports)."""
    m = match(true, pred)
    p, r = _precision(m), _recall(m)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def score(pairs: Iterable[tuple[str | None, str | None]]) -> Scores:
    """Corpus scores over ``(ground_truth, prediction)`` pairs.

    As in the benchmark, a document with an empty prediction does not count towards precision,
    and one with an empty ground truth does not count towards recall.
    """
    matches = [match(t, p) for t, p in pairs]
    precisions = [_precision(m) for m in matches if m.tp + m.fp > 0]
    recalls = [_recall(m) for m in matches if m.tp + m.fn > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return Scores(precision=precision, recall=recall, f1=f1, documents=len(matches))
