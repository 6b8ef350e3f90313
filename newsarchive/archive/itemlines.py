"""Read a run's ``items.jsonl`` back, forgivingly: what the state store learns from old runs.

A killed run's last line was cut by the repair, and files from older versions may hold lines
that are not items; a line that is not a JSON object is skipped, not an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_item_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Every JSON-object line of ``path``, in file order (nothing when the file is missing)."""
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                yield item
