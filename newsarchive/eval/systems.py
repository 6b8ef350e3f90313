"""The two systems the harness compares, reduced to the same few fields.

``newsarchive``: :func:`newsarchive.extraction.extract`, exactly what the pipeline stores.
``trafilatura``: the library alone with its default settings, as a user would call it:
``trafilatura.extract(html, url=url)`` for the text, ``extract_metadata`` for title, author
(``"A; B"``) and date.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from types import FrameType

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
    error: str | None = None
    """Why the system gave nothing for this page (an exception, the time limit): a page it
    fails on is scored as wrong on every field, never dropped from the table."""


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


#: Seconds one system may spend on one page before the page counts as failed for it.
PAGE_TIMEOUT = 120.0


class PageTimeout(Exception):
    """The page took longer than :data:`PAGE_TIMEOUT`."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise PageTimeout(f"no result after {PAGE_TIMEOUT:.0f} s")


def predict(system: str, html: bytes, url: str) -> Prediction:
    """The prediction of ``system`` (one of :data:`SYSTEMS`) for one page.

    A page the system raises on, or spends more than :data:`PAGE_TIMEOUT` on, yields an empty
    prediction that says why (``error``): one bad page in a corpus of hundreds must cost that
    page's score, not the whole run. The time limit is a ``SIGALRM`` timer, so it applies where
    the harness runs pages: the main thread of the process (a pool worker, or the caller).
    """
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; known: {', '.join(SYSTEMS)}")
    run = newsarchive_prediction if system == "newsarchive" else trafilatura_prediction
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, PAGE_TIMEOUT)
    try:
        return run(html, url)
    except Exception as exc:  # any failure of the system under test is that page's result
        return Prediction(error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
