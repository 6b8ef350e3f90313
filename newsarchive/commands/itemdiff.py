"""``scrapy reextract --diff``: what changed per article between two item JSONL files.

Scrapy-free and about items, not archives: after a trafilatura upgrade or an extraction fix,
it answers "which articles, which fields" for a rebuilt ``items.jsonl`` against an older one.
Not a command itself (Scrapy registers only modules with a ``ScrapyCommand``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from newsarchive.discovery.urlkey import article_key

#: Fields that describe the fetch or the run's cross-run state (item versions, which a WARC
#: does not hold), not the extraction: not compared by ``--diff``.
NOT_COMPARED = frozenset(
    {"fetched_at", "warc", "run_id", "extractor", "version", "previous_digest"}
)


def _load(path: Path) -> dict[str, dict]:
    items: dict[str, dict] = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            key = item.get("article_key") or item.get("article_id")
            items[str(key or article_key(item.get("url") or ""))] = item
    return items


def _short(value: Any, width: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def diff_report(old_path: Path, new_path: Path) -> str:
    """Per article, the fields that changed (short before → after), then a summary count."""
    old, new = _load(old_path), _load(new_path)
    lines: list[str] = []
    changed = unchanged = 0
    for key, item in new.items():
        before = old.get(key)
        if before is None:
            continue
        fields = sorted(
            name
            for name in set(item) | set(before)
            if name not in NOT_COMPARED and item.get(name) != before.get(name)
        )
        if not fields:
            unchanged += 1
            continue
        changed += 1
        lines.append(f"changed {item.get('url')} ({len(fields)} field(s))")
        lines.extend(
            f"  {name}: {_short(before.get(name))} -> {_short(item.get(name))}" for name in fields
        )
    only_new = [k for k in new if k not in old]
    only_old = [k for k in old if k not in new]
    lines.extend(f"only in new: {new[k].get('url')}" for k in only_new)
    lines.extend(f"only in old: {old[k].get('url')}" for k in only_old)
    extractors = {
        json.dumps(i.get("extractor"), sort_keys=True) for i in (*old.values(), *new.values())
    }
    if len(extractors) > 1:
        lines.append("extractors: " + " vs ".join(sorted(extractors)))
    lines.append(
        f"diff {old_path} -> {new_path}: {changed} changed, {unchanged} unchanged, "
        f"{len(only_new)} only in new, {len(only_old)} only in old"
    )
    return "\n".join(lines)
