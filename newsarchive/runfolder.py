"""Where a run writes: ``<NEWSARCHIVE_OUTPUT>/<spider>/<run id>/``.

Run ids are UTC timestamps with milliseconds, so folders sort by start time and two runs
started in the same second do not collide.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def new_run_id(now: datetime | None = None) -> str:
    """A sortable run id like ``20261128T052446123Z``."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def check_run_id(run_id: str) -> str:
    """Reject run ids that could escape the output folder or break file names."""
    if not _RUN_ID.match(run_id) or ".." in run_id:
        raise ValueError(
            f"NEWSARCHIVE_RUN_ID={run_id!r} is not a safe folder name: use letters, digits, "
            "'.', '_' and '-' (at most 80 characters)"
        )
    return run_id


def run_folder(output_root: str | Path, spider_name: str, run_id: str) -> Path:
    """The run folder of one crawl (not created here)."""
    return Path(output_root) / spider_name / check_run_id(run_id)


def worker_file(name: str, worker: str | None) -> str:
    """A run-folder file name of one worker: ``items.jsonl`` → ``items-<worker>.jsonl``.

    A single-machine run (no worker) keeps the plain names; the workers of a distributed run
    each write their own files into one run folder, so no two processes ever append to one.
    """
    if not worker:
        return name
    stem, dot, suffix = name.partition(".")
    return f"{stem}-{worker}{dot}{suffix}"


def worker_of(settings: Any) -> str | None:
    """This process's worker id in a distributed run (``NEWSARCHIVE_WORKER_ID``), else None."""
    if not settings.get("NEWSARCHIVE_DISTRIBUTED"):
        return None
    return settings.get("NEWSARCHIVE_WORKER_ID") or None
