"""What changed between two versions of an article, field by field, without keeping the old one.

A version is remembered as a *fingerprint*: a short digest of each content field and of each
paragraph of the text, plus the text's length (a few hundred bytes in the state store, not the
article). Comparing the last fingerprint with a new item gives the item's ``changes``: which
fields changed (so "headline changed" is one query) and, for the text, how many paragraphs were
added, removed or changed and its length before and after. The words themselves are in the
archive: ``scrapy history`` diffs the archived versions (:mod:`newsarchive.worddiff`).
Scrapy-free.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from difflib import SequenceMatcher
from typing import Any

from newsarchive.state.freshness import CONTENT_FIELDS

#: Fields whose change is reported: what the article says (the digest's fields without the
#: two that name the article, which cannot change under one key).
COMPARED_FIELDS = tuple(f for f in CONTENT_FIELDS if f not in ("article_id", "site"))
FINGERPRINT_VERSION = 1


def _short(value: Any) -> str:
    blob = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def paragraphs(text: str | None) -> list[str]:
    """The paragraphs of an item's ``text`` (separated by a blank line), stripped."""
    return [p.strip() for p in (text or "").split("\n\n") if p.strip()]


def fingerprint(item: Mapping[str, Any]) -> dict[str, Any]:
    """What an item says, compactly: a digest per compared field and per text paragraph."""
    return {
        "v": FINGERPRINT_VERSION,
        "fields": {name: _short(item.get(name)) for name in COMPARED_FIELDS},
        "paragraphs": [_short(p) for p in paragraphs(item.get("text"))],
        "chars": len(item.get("text") or ""),
    }


def text_changes(before: list[str], after: list[str], chars: tuple[int, int]) -> dict[str, int]:
    """Paragraphs added / removed / changed between two lists of paragraph digests (a
    replaced run of paragraphs counts as changed pairwise, the surplus as added or removed)."""
    added = removed = changed = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        old, new = i2 - i1, j2 - j1
        if tag == "insert":
            added += new
        elif tag == "delete":
            removed += old
        elif tag == "replace":
            changed += min(old, new)
            added += max(0, new - old)
            removed += max(0, old - new)
    return {
        "paragraphs_added": added,
        "paragraphs_removed": removed,
        "paragraphs_changed": changed,
        "chars_before": chars[0],
        "chars_after": chars[1],
    }


def summarize(
    previous: Mapping[str, Any] | None, item: Mapping[str, Any], *, restored: bool = False
) -> dict[str, Any] | None:
    """The ``changes`` of ``item`` against the fingerprint of the version it replaces.

    None when that fingerprint is unknown (a state file from before fingerprints): the item is
    still a new version, but what changed cannot be said without the old text.
    """
    if not previous or previous.get("v") != FINGERPRINT_VERSION:
        return None
    now = fingerprint(item)
    old_fields = previous.get("fields") or {}
    fields = [name for name in COMPARED_FIELDS if old_fields.get(name) != now["fields"][name]]
    text = None
    if "text" in fields:
        text = text_changes(
            list(previous.get("paragraphs") or []),
            now["paragraphs"],
            (int(previous.get("chars") or 0), now["chars"]),
        )
    return {"fields": fields, "text": text, "restored": restored}
