"""``report.html``: a run folder as a page a person can read, self-contained (no Scrapy here).

Public API: :func:`write_report` (read the run folder, write ``report.html`` atomically),
:func:`gather` and :func:`render` for the two halves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from newsarchive.report.facts import RunFacts, gather
from newsarchive.report.page import render

REPORT_FILE = "report.html"


def write_report(
    folder: Path, max_articles: int = 1000, stats: dict[str, Any] | None = None
) -> Path:
    """Write ``<folder>/report.html`` from what the run left there (``stats``: the crawl's own,
    else ``stats.json``); its path."""
    html = render(gather(folder, max_articles, stats))
    path = folder / REPORT_FILE
    tmp = folder / f".{REPORT_FILE}.{os.getpid()}.tmp"
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path


__all__ = ["REPORT_FILE", "RunFacts", "gather", "render", "write_report"]
