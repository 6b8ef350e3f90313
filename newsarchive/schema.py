"""The JSON Schemas of an items.jsonl and a urls.jsonl line, generated from
:mod:`newsarchive.items`.

``python -m newsarchive.schema > docs/item.schema.json`` and ``python -m newsarchive.schema urls >
docs/urls.schema.json`` regenerate the published files; a test fails when a published file and
the dataclasses disagree.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from itemadapter import ItemAdapter

from newsarchive.items import URL_OUTCOMES, ArticleItem, UrlRecord

SCHEMA_ID = "https://newsarchive.invalid/schema/article-item.json"
URLS_SCHEMA_ID = "https://newsarchive.invalid/schema/url-record.json"


def item_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for :class:`ArticleItem`, from type hints and docstrings."""
    schema = ItemAdapter.get_json_schema(ArticleItem)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "newsarchive article item",
        **schema,
    }
    schema["additionalProperties"] = False
    return schema


def urls_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for a ``urls.jsonl`` line (:class:`UrlRecord`)."""
    schema = ItemAdapter.get_json_schema(UrlRecord)
    schema["properties"]["outcome"]["enum"] = list(URL_OUTCOMES)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": URLS_SCHEMA_ID,
        "title": "newsarchive URL record (urls.jsonl)",
        **schema,
    }
    schema["additionalProperties"] = False
    return schema


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    which = args[0] if args else "item"
    if which not in ("item", "urls"):
        print(f"usage: python -m newsarchive.schema [item|urls], not {which!r}", file=sys.stderr)
        return 2
    json.dump(item_schema() if which == "item" else urls_schema(), sys.stdout, indent=2,
              ensure_ascii=False)  # fmt: skip
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
