"""The two systems the harness compares, reduced to the same few fields.

``newsarchive``: :func:`newsarchive.extraction.extract`, exactly what the pipeline stores.
``trafilatura``: the library alone with its default settings, as a user would call it:
``trafilatura.extract(html, url=url)`` for the text, ``extract_metadata`` for title, author
(``"A; B"``) and date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trafilatura

from newsarchive.extraction import extract
from newsarchive.extraction.document import decode

SYSTEMS = ("newsarchive", "trafilatura")


@dataclass(frozen=True)
class Prediction:
    """What one system says about one page."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    """ISO 8601 (date or date-time)."""
    tags: list[str] = field(default_factory=list)
    text: str = ""


def newsarchive_prediction(html: bytes, url: str) -> Prediction:
    item = extract(html, url)
    return Prediction(
        title=item["title"],
        authors=list(item["authors"]),
        published=item["published"],
        tags=list(item["tags"]),
        text=item["text"],
    )


def trafilatura_prediction(html: bytes, url: str) -> Prediction:
    text = decode(html)
    body = trafilatura.extract(text, url=url) or ""
    meta = trafilatura.extract_metadata(text, default_url=url)
    authors = [a.strip() for a in (meta.author or "").split(";") if a.strip()]
    return Prediction(
        title=meta.title,
        authors=authors,
        published=meta.date,
        tags=list(meta.tags or []),
        text=body,
    )


def predict(system: str, html: bytes, url: str) -> Prediction:
    """The prediction of ``system`` (one of :data:`SYSTEMS`) for one page."""
    if system == "newsarchive":
        return newsarchive_prediction(html, url)
    if system == "trafilatura":
        return trafilatura_prediction(html, url)
    raise ValueError(f"unknown system {system!r}; known: {', '.join(SYSTEMS)}")
