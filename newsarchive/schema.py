"""The JSON Schema of an items.jsonl line, generated from :mod:`newsarchive.items`.

``python -m newsarchive.schema > docs/item.schema.json`` regenerates the published file; a test
fails when the published file and the dataclasses disagree.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from itemadapter import ItemAdapter

from newsarchive.items import ArticleItem

SCHEMA_ID = "https://newsarchive.invalid/schema/article-item.json"


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


def main() -> int:
    json.dump(item_schema(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
