"""``manifest.json`` as a file: written atomically, and rewritten for a run found killed.

The manifest extension writes it during a crawl; the state's recovery of killed runs
(:mod:`newsarchive.state.recovery`) and a distributed run's recovery of dead workers rewrite a
dead one's. All use this module, so no component imports another for it.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.runfolder import worker_file

MANIFEST_FILENAME = "manifest.json"
MANIFEST_VERSION = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write then rename, so a reader (or a kill) never sees half a manifest."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=str, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def count_lines(path: Path) -> int:
    """Non-blank lines of a JSONL file (0 when it does not exist)."""
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def warc_entries(folder: Path, worker: str | None = None) -> list[dict[str, Any]]:
    """The run folder's WARC files (one worker's, in a distributed run) with their size and
    sha256, as the manifest lists them."""
    pattern = f"*-{worker}-*.warc.gz" if worker else "*.warc.gz"
    return [
        {"file": path.name, "size": path.stat().st_size, "sha256": sha256_file(path)}
        for path in sorted(folder.glob(pattern))
    ]


def mark_killed(folder: Path, repair: dict[str, Any], worker: str | None = None) -> None:
    """Rewrite a killed run's manifest (or a killed worker's): status ``killed``, interrupted,
    and what was repaired."""
    path = folder / worker_file(MANIFEST_FILENAME, worker)
    items = worker_file("items.jsonl", worker)
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        manifest = {"manifest_version": MANIFEST_VERSION, "run_id": folder.name}
    manifest.update(
        status="killed",
        interrupted=True,
        finish_reason="killed",
        repaired_at=datetime.now(UTC).isoformat(),
        repair=repair,
        warcs=warc_entries(folder, worker),
        items={"file": items, "count": count_lines(folder / items)},
    )
    write_json_atomic(path, manifest)
