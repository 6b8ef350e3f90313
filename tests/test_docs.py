"""The README, the JSON Schema and the code tell the same story."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

from newsarchive import default_settings
from newsarchive.items import ArticleItem, UrlRecord
from newsarchive.schema import item_schema, urls_schema

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text("utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_published_schema_is_generated_from_items():
    published = json.loads((REPO / "docs" / "item.schema.json").read_text("utf-8"))
    assert published == item_schema(), "run: python -m newsarchive.schema > docs/item.schema.json"


def test_published_urls_schema_is_generated_from_url_record():
    published = json.loads((REPO / "docs" / "urls.schema.json").read_text("utf-8"))
    assert published == urls_schema(), (
        "run: python -m newsarchive.schema urls > docs/urls.schema.json"
    )


def test_every_urls_jsonl_field_is_documented():
    table = (REPO / "docs" / "urls.md").read_text("utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert {f.name for f in fields(UrlRecord)} == documented


def test_every_item_field_is_documented():
    table = _section("Item fields")
    documented = set(re.findall(r"^\| `([a-z_]+)`", table, re.M))
    documented |= set(re.findall(r"^\| `[a-z_]+`, `([a-z_]+)`", table, re.M))
    assert {f.name for f in fields(ArticleItem)} <= documented


def test_every_setting_is_documented_with_its_default():
    table = _section("Settings")
    rows = dict(re.findall(r"^\| `(NEWSARCHIVE_[A-Z_]+)` \| ([^|]+) \|", table, re.M))
    names = [n for n in dir(default_settings) if n.startswith("NEWSARCHIVE_")]
    assert names
    for name in names:
        assert name in rows, f"{name} missing from the README settings table"
        value = getattr(default_settings, name)
        shown = rows[name]
        assert repr(value).strip("'") in shown or json.dumps(value) in shown, (name, shown)
    assert set(rows) <= set(names), "README documents settings that do not exist"
