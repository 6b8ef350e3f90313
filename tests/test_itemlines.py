"""``newsarchive.archive.itemlines``: a run's items.jsonl read back as the state store needs it."""

from __future__ import annotations

import json

from newsarchive.archive.itemlines import read_item_lines


def test_lines_split_on_newlines_only_and_junk_is_skipped(tmp_path):
    # An item whose text holds U+2028 (Scrapy's feed writes it raw, ensure_ascii=False) is one line.
    item = {"url": "https://www.rferl.org/a/1234567.html", "text": "one\u2028two\u2029three"}
    torn = json.dumps({"url": "https://www.rferl.org/a/7654321.html"})[:20]
    path = tmp_path / "items.jsonl"
    path.write_text(
        json.dumps(item, ensure_ascii=False) + "\n\n[1, 2]\n" + torn + "\n", encoding="utf-8"
    )
    assert list(read_item_lines(path)) == [item]


def test_a_missing_file_has_no_items(tmp_path):
    assert list(read_item_lines(tmp_path / "items.jsonl")) == []
