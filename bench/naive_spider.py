"""The naive alternative the benchmark compares with: a plain Scrapy spider that calls
trafilatura inline on every page (no archive, no state, no worker processes).

    scrapy runspider bench/naive_spider.py -a urls=URLS.txt -s ADDONS={} -O items.jsonl
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
import trafilatura


class NaiveTrafilaturaSpider(scrapy.Spider):
    """Fetch each listed URL and yield trafilatura's text and metadata for it."""

    name = "naive_trafilatura"

    def __init__(self, urls: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url_file = Path(urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for line in self.url_file.read_text("utf-8").splitlines():
            if line.strip():
                yield scrapy.Request(line.strip())

    def parse(self, response: scrapy.http.Response) -> Any:
        document = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True)
        if document is not None:
            yield {"url": response.url, "title": document.title, "text": document.text}
