"""Hand every response a request marked ``newsarchive_article`` asked for to extraction.

This is how a spider of the user's own uses newsarchive: it marks its article requests
(``meta={"newsarchive_article": True}``) and goes on yielding what it likes; the add-on turns
the archived response into an article item beside the callback's own output, which passes on
untouched. A callback that already yields :func:`newsarchive.article_page` for that response is
left alone (one item per page).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse

from newsarchive import default_settings, metakeys
from newsarchive.items import FetchedPage
from newsarchive.pages import article_page

logger = logging.getLogger(__name__)


class ArticlePageMiddleware:
    """Add the :class:`FetchedPage` of a marked response to its callback's output."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePageMiddleware:
        if not crawler.settings.getbool(
            "NEWSARCHIVE_ARTICLEPAGE_ENABLED", default_settings.NEWSARCHIVE_ARTICLEPAGE_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_ARTICLEPAGE_ENABLED is false")
        return cls(crawler)

    def process_spider_output(
        self, response: Response, result: Iterable[Any], spider: Any = None
    ) -> Iterator[Any]:
        handed = False
        for output in result:
            handed = handed or isinstance(output, FetchedPage)
            yield output
        if not handed:
            yield from self._page(response)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        handed = False
        async for output in result:
            handed = handed or isinstance(output, FetchedPage)
            yield output
        if not handed:
            for page in self._page(response):
                yield page

    def _page(self, response: Response) -> Iterator[FetchedPage]:
        if not response.meta.get(metakeys.ARTICLE):
            return
        if response.status == 304:  # archived as a revisit; the stored version stands
            return
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("newsarchive/fetch/not_html")
            logger.warning("Not an HTML page, archived only: %s", response.url)
            return
        self.crawler.stats.inc_value("newsarchive/articlepage/handed")
        yield article_page(response)
