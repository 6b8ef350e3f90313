"""The run folder's items.jsonl exporter writes exactly what Scrapy's jsonlines exporter does."""

from __future__ import annotations

import io
import json
from dataclasses import fields

from itemadapter import ItemAdapter
from scrapy.exporters import JsonLinesItemExporter

from newsarchive.exporters.articlelines import ArticleLinesExporter
from newsarchive.items import (
    ArticleItem,
    Extractor,
    ItemChanges,
    LegalNotice,
    TextChanges,
    WarcRef,
    item_dict,
)


def _article() -> ArticleItem:
    notice = LegalNotice(
        kind="foreign-agent", text="Настоящий материал…", language="ru", location="footer"
    )
    return ArticleItem(
        url="https://www.svoboda.org/a/33000001.html",
        site="www.svoboda.org",
        article_id="33000001",
        title="Заголовок «в кавычках»",
        authors=["Иван Петров", "Anna Smith"],
        tags=["politics"],
        text="Первый абзац.\n\nSecond paragraph \u2028 with odd spaces.",
        legal_notice=notice,
        legal_notices=[notice],
        accessible_for_free=True,
        fetched_at="2026-12-03T13:00:00Z",
        http_status=200,
        warc=WarcRef("a.warc.gz", 10, 20, "<urn:uuid:1>", "sha1:XYZ"),
        extractor=Extractor(name="newsarchive", version="1"),
        version=2,
        previous_digest="sha1:abc",
        changes=ItemChanges(fields=["title"], text=TextChanges(3, 1, 0, 100, 140)),
    )


def _export(exporter_class, items, **kwargs) -> bytes:
    out = io.BytesIO()
    exporter = exporter_class(out, encoding="utf-8", **kwargs)
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return out.getvalue()


def test_article_lines_are_byte_for_byte_scrapys():
    items = [_article(), ArticleItem(url="https://example.com/a", site="example.com")]
    ours = _export(ArticleLinesExporter, items)
    assert ours == _export(JsonLinesItemExporter, items)
    assert json.loads(ours.splitlines()[0]) == item_dict(items[0])
    assert "Заголовок".encode() in ours  # utf-8, not \\u escapes, as the feed is configured


def test_export_options_and_other_items_go_scrapys_way():
    item = _article()
    fields = ["url", "title"]
    ours = _export(ArticleLinesExporter, [item], fields_to_export=fields)
    assert ours == _export(JsonLinesItemExporter, [item], fields_to_export=fields)
    assert list(json.loads(ours)) == fields
    plain = {"url": "https://example.com/", "n": 1}
    assert _export(ArticleLinesExporter, [plain]) == _export(JsonLinesItemExporter, [plain])


def test_item_dict_is_what_itemadapter_gives_and_a_copy():
    item = _article()
    plain = item_dict(item)
    assert plain == ItemAdapter(item).asdict()
    assert list(plain) == [f.name for f in fields(ArticleItem)]
    plain["authors"].append("someone else")
    plain["legal_notices"][0]["text"] = "changed"
    assert item.authors == ["Иван Петров", "Anna Smith"]
    assert item.legal_notices[0].text == "Настоящий материал…"
