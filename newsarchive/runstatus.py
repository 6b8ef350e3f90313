"""How components say "this run failed" so cron can see it in the exit status.

Any component calls :func:`mark_failed`; the ``crawl`` command turns any such mark into a
non-zero exit status, and the summary and manifest list the reasons.
"""

from __future__ import annotations

from typing import Any

FAILURE_PREFIX = "newsarchive/run/failure/"


def mark_failed(crawler: Any, reason: str) -> None:
    """Record that the run failed for ``reason`` (a short slug such as ``selfcheck``)."""
    crawler.stats.set_value(FAILURE_PREFIX + reason, 1)


def failure_reasons(stats: dict[str, Any]) -> list[str]:
    """The reasons recorded by :func:`mark_failed`, sorted."""
    return sorted(k[len(FAILURE_PREFIX) :] for k in stats if k.startswith(FAILURE_PREFIX))
