"""Archive every HTTP exchange to WARC, as received, before Scrapy rewrites it.

Placed after RetryMiddleware, RedirectMiddleware and HttpCompressionMiddleware in the response
direction, so redirects, errors and compressed bodies are archived exactly as the server sent
them. The location of the response record is put in ``request.meta["newsarchive_warc"]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive import default_settings as defaults
from newsarchive import metakeys
from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig
from newsarchive.items import ArticleItem, item_dict
from newsarchive.runfolder import run_folder, worker_of
from newsarchive.state.session import state_for

logger = logging.getLogger(__name__)

#: ``response.flags`` entry of responses served by the replay middleware: already archived,
#: so never written again (a replay run writes no WARC; its items point at the archive read).
REPLAYED_FLAG = "replayed"


@dataclass(frozen=True)
class WarcMiddlewareConfig:
    """What the middleware needs from the settings."""

    output: str
    run_id: str
    prefix: str
    max_size: int
    dedupe: bool
    metadata_records: bool
    contact: str
    gzip_level: int = defaults.NEWSARCHIVE_WARC_GZIP_LEVEL

    @classmethod
    def from_settings(cls, settings) -> WarcMiddlewareConfig:
        prefix = settings.get("NEWSARCHIVE_WARC_PREFIX", defaults.NEWSARCHIVE_WARC_PREFIX)
        worker = worker_of(settings)
        return cls(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
            # A distributed worker's files: <prefix>-<worker>-<run id>-<serial>.warc.gz
            prefix=f"{prefix}-{worker}" if worker else prefix,
            max_size=settings.getint(
                "NEWSARCHIVE_WARC_MAX_SIZE", defaults.NEWSARCHIVE_WARC_MAX_SIZE
            ),
            dedupe=settings.getbool("NEWSARCHIVE_WARC_DEDUPE", defaults.NEWSARCHIVE_WARC_DEDUPE),
            metadata_records=settings.getbool(
                "NEWSARCHIVE_WARC_METADATA", defaults.NEWSARCHIVE_WARC_METADATA
            ),
            contact=settings.get("NEWSARCHIVE_CONTACT", defaults.NEWSARCHIVE_CONTACT),
            gzip_level=settings.getint(
                "NEWSARCHIVE_WARC_GZIP_LEVEL", defaults.NEWSARCHIVE_WARC_GZIP_LEVEL
            ),
        )


def exchange_from_response(request: Request, response: Response) -> HttpExchange:
    """The Scrapy request/response pair as an :class:`HttpExchange` (all header values kept)."""

    def pairs(headers) -> list[tuple[str, str]]:
        return [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items()
            for value in values
        ]

    return HttpExchange(
        url=response.url,
        method=request.method,
        request_headers=pairs(request.headers),
        request_body=request.body or b"",
        status=response.status,
        response_headers=pairs(response.headers),
        payload=response.body,
        protocol=response.protocol or "HTTP/1.1",
        ip_address=str(response.ip_address) if response.ip_address is not None else None,
        fetched_at=datetime.now(UTC),
    )


class WarcArchiveMiddleware:
    """Downloader middleware writing request, response (or revisit) and metadata records."""

    def __init__(self, crawler: Crawler, config: WarcMiddlewareConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.writer: RotatingWarcWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchiveMiddleware:
        if not crawler.settings.getbool(
            "NEWSARCHIVE_WARC_ENABLED", defaults.NEWSARCHIVE_WARC_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_WARC_ENABLED is false")
        middleware = cls(crawler, WarcMiddlewareConfig.from_settings(crawler.settings))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.item_scraped, signal=signals.item_scraped)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        folder = run_folder(self.config.output, spider.name, self.config.run_id)
        self.writer = RotatingWarcWriter(
            WarcWriterConfig(
                directory=folder,
                prefix=self.config.prefix,
                run_id=self.config.run_id,
                max_size=self.config.max_size,
                dedupe=self.config.dedupe,
                lookup=self._stored_original,
                gzip_level=self.config.gzip_level,
                warcinfo=(
                    ("operator", self.config.contact),
                    ("http-header-user-agent", self.crawler.settings.get("USER_AGENT", "")),
                    (
                        "robots",
                        "obey" if self.crawler.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                    ),
                    ("description", f"newsarchive crawl by spider {spider.name!r}"),
                ),
            )
        )

    def _stored_original(self, digest: str) -> tuple[str, str, str] | None:
        """A full record of this payload archived by an earlier run (state store), if any."""
        store = state_for(self.crawler)
        original = store.original(digest) if store is not None else None
        return (original.uri, original.date, original.record_id) if original else None

    def spider_closed(self, spider: Spider) -> None:
        if self.writer is None:
            return
        files = self.writer.close()
        stats = self.crawler.stats
        stats.set_value("newsarchive/warc/files", len(files))
        stats.set_value("newsarchive/warc/bytes", sum(Path(f).stat().st_size for f in files))

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if self.writer is None or REPLAYED_FLAG in response.flags:
            return response
        exchange = exchange_from_response(request, response)
        stored = request.meta.get(metakeys.REVISIT_OF)  # set by the conditional middleware
        location = self.writer.write_exchange(
            exchange,
            not_modified_of=(stored.uri, stored.date, stored.record_id, stored.payload_digest)
            if stored is not None and response.status == 304
            else None,
        )
        stats = self.crawler.stats
        stats.inc_value(f"newsarchive/warc/{location.record_type}")
        stats.inc_value("newsarchive/warc/payload_bytes", len(exchange.payload))
        request.meta[metakeys.WARC_RECORD] = location
        request.meta[metakeys.FETCHED_AT] = exchange.fetched_at
        return response

    def item_scraped(self, item, response, spider: Spider) -> None:
        """Write the final item next to its response, so the WARC alone carries both."""
        if self.writer is None or not self.config.metadata_records:
            return
        if not isinstance(item, ArticleItem) or item.warc is None:
            return
        if response is not None and REPLAYED_FLAG in response.flags:
            return
        data = item_dict(item)
        self.writer.write_metadata(item.url, item.warc.record_id, data)
        self.crawler.stats.inc_value("newsarchive/warc/metadata")
