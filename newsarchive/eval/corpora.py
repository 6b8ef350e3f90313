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


def benchmark_pages(root: Path) -> Iterator[Page]:
    """article-extraction-benchmark: ``html/<sha256(url)>.html.gz`` + ``ground-truth.json``."""
    folder = root / BENCHMARK
    truth = json.loads((folder / "ground-truth.json").read_text("utf-8"))
    for path in sorted((folder / "html").glob("*.html.gz")):
        key = path.name.split(".", 1)[0]
        if key not in truth:
            continue
        item = truth[key]
        yield Page(BENCHMARK, key[:12], item["url"], _gunzip(path), {"text": item["articleBody"]})


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


def fundus_pages(root: Path, split: str | None = None) -> Iterator[Page]:
    """fundus-parser-testdata: the pairs listed in ``INDEX.jsonl`` (only one half of them when
    ``split`` names one, see :func:`split_of`)."""
    folder = root / FUNDUS
    expectations: dict[str, dict[str, Any]] = {}
    for line in (folder / "INDEX.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if split is not None and split_of(row["html"]) != split:
            continue
        name = row["expected_json"]
        if name not in expectations:
            expectations[name] = json.loads((folder / name).read_text("utf-8"))
        expected = expectations[name][row["expected_key"]]
        html = _gunzip(folder / row["html"])
        yield Page(FUNDUS, row["html"], row["url"], html, fundus_truth(expected))


def pangea_pages(root: Path) -> Iterator[Page]:
    """The Pangea pages: each ``*.expected.json`` (fundus or benchmark shape) + the legacy page."""
    folder = root / PANGEA
    for path in sorted(folder.glob("*.expected.json")):
        expected = json.loads(path.read_text("utf-8"))
        html = _gunzip(folder / path.name.replace(".expected.json", ".html.gz"))
        if "articleBody" in expected:
            truth = {"text": expected["articleBody"]}
        else:
            truth = fundus_truth(expected)
        yield Page(PANGEA, path.name.split(".expected")[0], expected["url"], html, truth)
    legacy = folder / LEGACY_RFERL["file"]
    if legacy.is_file():
        name = LEGACY_RFERL["file"].removesuffix(".html.gz")
        yield Page(PANGEA, name, LEGACY_RFERL["url"], _gunzip(legacy), dict(LEGACY_RFERL["truth"]))
