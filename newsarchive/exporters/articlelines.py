"""The run folder's ``items.jsonl`` exporter: Scrapy's JSON lines, cheaper per article.

Scrapy's :class:`~scrapy.exporters.JsonLinesItemExporter` asks ``ItemAdapter`` for each field's
metadata and serializer, and its JSON encoder adapts each nested record again: about 0.7 ms of
the crawl's main process per article. An :class:`~newsarchive.items.ArticleItem` has no field
serializers, so its line is :func:`~newsarchive.items.item_dict` encoded by the same encoder:
the same bytes. Anything else (an export field list, a subclass's serializer, another item
class) goes Scrapy's way.
"""

from __future__ import annotations

from typing import Any

from scrapy.exporters import BaseItemExporter, JsonLinesItemExporter
from scrapy.utils.python import to_bytes

from newsarchive.items import ArticleItem, item_dict


class ArticleLinesExporter(JsonLinesItemExporter):
    """``jsonlines`` with a fast path for articles (feed format ``newsarchive_jsonlines``)."""

    def export_item(self, item: Any) -> None:
        plain = (
            type(item) is ArticleItem
            and self.fields_to_export is None
            and type(self).serialize_field is BaseItemExporter.serialize_field
        )
        if not plain:
            super().export_item(item)
            return
        data = self.encoder.encode(item_dict(item)) + "\n"
        self.file.write(to_bytes(data, self.encoding))
