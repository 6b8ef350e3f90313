"""The corpora the harness scores on, read in place: pages plus what each should yield.

Each reader yields :class:`Page` objects whose ``truth`` holds the published ground truth in one
shape (``title``, ``authors``, ``published``, ``text``, ``tags``, ...; a key is present only when
the corpus states it). Nothing is cached or copied to disk.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCHMARK = "article-extraction-benchmark"
FUNDUS = "fundus-parser-testdata"
PANGEA = "rferl/pangea-pages"
#: The legacy rferl.org page has no expected file; ``rferl/SOURCE.md`` states these facts,
#: read by hand from its markup (title, ``div.author``, ``p.article_date``, first/last words).
LEGACY_RFERL = {
    "file": "rferl.org_24877127_2013-01-18.html.gz",
    "url": "http://www.rferl.org/content/sokh-exclave-kyrgyzstan-uzbekistan/24877127.html",
    "truth": {
        "title": "Sokh: In One Tiny Territory, A World Of Problems",
        "authors": ["Daisy Sindelar"],
        "published": "2013-01-18",
        "text_starts": "They say good fences",
        "text_ends": "contributed to this report.",
    },
}


#: The halves ``--split`` selects: tune on ``dev`` misses only, report ``heldout`` as the check
#: that a change is a method and not a fit to the pages it was tuned on.
SPLITS = ("dev", "heldout")


def split_of(name: str) -> str:
    """The fixed half a page belongs to: the parity of the sha1 of its corpus path.

    Deterministic and independent of the page's content or of the corpus order, so a page added
    later lands in a half without moving the others.
    """
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    return SPLITS[digest[-1] & 1]


@dataclass(frozen=True)
class Page:
    """One page to score: where it came from, its bytes, and its ground truth."""

    corpus: str
    name: str
    url: str
    html: bytes = field(repr=False)
    truth: dict[str, Any] = field(default_factory=dict)


def default_root() -> Path:
    """``NEWSARCHIVE_CORPORA``, else ``../shared/corpora`` (relative to the working folder)."""
    return Path(os.environ.get("NEWSARCHIVE_CORPORA") or "../shared/corpora")


def _gunzip(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _read(path: Path, corpus: str, problems: list[str]) -> bytes | None:
    """The page's bytes, or ``None`` with the reason added to ``problems``."""
    try:
        return _gunzip(path)
    except (OSError, EOFError) as exc:
        problems.append(f"{corpus} {path.name}: cannot read ({type(exc).__name__}: {exc})")
        return None


def benchmark_pages(root: Path, problems: list[str] | None = None) -> Iterator[Page]:
    """article-extraction-benchmark: ``html/<sha256(url)>.html.gz`` + ``ground-truth.json``.

    A page that cannot be scored (no ground truth, unreadable file) is not yielded; why is
    appended to ``problems``, so the caller can say how many pages the table leaves out."""
    problems = problems if problems is not None else []
    folder = root / BENCHMARK
    truth = json.loads((folder / "ground-truth.json").read_text("utf-8"))
    for path in sorted((folder / "html").glob("*.html.gz")):
        key = path.name.split(".", 1)[0]
        item = truth.get(key)
        if not item or "articleBody" not in item:
            problems.append(f"{BENCHMARK} {path.name}: no ground truth for this page")
            continue
        html = _read(path, BENCHMARK, problems)
        if html is not None:
            yield Page(
                BENCHMARK, key[:12], item.get("url", ""), html, {"text": item["articleBody"]}
            )


def fundus_body(body: dict[str, Any]) -> str:
    """fundus' body as text: summary, then each section's headline and paragraphs."""
    parts = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    return "\n\n".join(parts)


def fundus_truth(expected: dict[str, Any]) -> dict[str, Any]:
    truth: dict[str, Any] = {}
    if "title" in expected:
        truth["title"] = expected["title"]
    if "authors" in expected:
        truth["authors"] = list(expected["authors"])
    if expected.get("publishing_date"):
        truth["published"] = expected["publishing_date"]
    if "topics" in expected:
        truth["tags"] = list(expected["topics"])
    if "body" in expected:
        truth["text"] = fundus_body(expected["body"])
    return truth


#: What ``--split-by`` hashes: the page's path, or its publisher's expected-output file (so no
#: publisher has pages in both halves: a rule cannot pass the held-out check by having seen
#: another page of the same site).
SPLIT_KEYS = ("page", "publisher")


def fundus_pages(
    root: Path,
    split: str | None = None,
    problems: list[str] | None = None,
    split_by: str = "page",
) -> Iterator[Page]:
    """fundus-parser-testdata: the pairs listed in ``INDEX.jsonl`` (only one half of them when
    ``split`` names one, see :func:`split_of`, halves by page or by publisher: ``split_by``). A
    listed pair that cannot be read (missing file, missing version key, bad line) is reported
    in ``problems`` and not yielded."""
    if split_by not in SPLIT_KEYS:
        raise ValueError(f"split_by must be one of {SPLIT_KEYS}, not {split_by!r}")
    problems = problems if problems is not None else []
    folder = root / FUNDUS
    expectations: dict[str, dict[str, Any]] = {}
    lines = (folder / "INDEX.jsonl").read_text("utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            html_name, name, key = row["html"], row["expected_json"], row["expected_key"]
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{FUNDUS} INDEX.jsonl line {number}: unreadable ({exc!r})")
            continue
        if split is not None and split_of(html_name if split_by == "page" else name) != split:
            continue
        try:
            if name not in expectations:
                expectations[name] = json.loads((folder / name).read_text("utf-8"))
            expected = expectations[name][key]
        except (OSError, ValueError, KeyError) as exc:
            problems.append(
                f"{FUNDUS} {html_name}: no expected output ({type(exc).__name__}: {exc})"
            )
            continue
        html = _read(folder / html_name, FUNDUS, problems)
        if html is not None:
            yield Page(FUNDUS, html_name, row.get("url", ""), html, fundus_truth(expected))


def pangea_pages(root: Path, problems: list[str] | None = None) -> Iterator[Page]:
    """The Pangea pages: each ``*.expected.json`` (fundus or benchmark shape) + the legacy page;
    a pair that cannot be read is reported in ``problems``."""
    problems = problems if problems is not None else []
    folder = root / PANGEA
    for path in sorted(folder.glob("*.expected.json")):
        try:
            expected = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{PANGEA} {path.name}: unreadable ({type(exc).__name__}: {exc})")
            continue
        html = _read(folder / path.name.replace(".expected.json", ".html.gz"), PANGEA, problems)
        if html is None:
            continue
        if "articleBody" in expected:
            truth = {"text": expected["articleBody"]}
        else:
            truth = fundus_truth(expected)
        yield Page(PANGEA, path.name.split(".expected")[0], expected.get("url", ""), html, truth)
    legacy = folder / LEGACY_RFERL["file"]
    if legacy.is_file():
        name = LEGACY_RFERL["file"].removesuffix(".html.gz")
        yield Page(PANGEA, name, LEGACY_RFERL["url"], _gunzip(legacy), dict(LEGACY_RFERL["truth"]))
