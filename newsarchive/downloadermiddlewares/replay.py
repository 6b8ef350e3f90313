"""Answer every request from an archive (WARC, WACZ or run folder): crawl with no network at all.

Enabled by ``NEWSARCHIVE_REPLAY=<path>``: a WARC/ARC/WACZ file, a run folder, or a spider folder
(every run; each URL answered from the newest run that captured it). A scheduled run's folder
holds revisits of earlier runs and lacks the known articles it skipped, so its sibling runs are
read too when something is missing (:mod:`newsarchive.archive.index`).

The middleware sits after every other ``process_request`` (so the request is the one that would
have gone on the wire) and returns the archived response before the download handler runs. The
response then goes back through the whole ``process_response`` chain, so HttpCompressionMiddleware
decodes archived gzip bodies and RedirectMiddleware follows archived 3xx, exactly as in the live
crawl. Replayed responses carry the ``replayed`` flag, which the WARC middleware skips: replay
writes no WARC (the archive it reads is the record).

A request that is not in the archive is a miss: counted (``newsarchive/replay/miss``), logged,
and answered with :class:`ReplayMiss` (an ``IgnoreRequest``), never sent anywhere. For
robots.txt that is what Scrapy does for any ignored robots.txt request: the host is allowed.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from newsarchive import default_settings as defaults
from newsarchive import metakeys
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.reader import ArchivedRecord, ArchiveError, entity_body
from newsarchive.archive.records import RENAMED_HEADER_PREFIX, parse_warc_date
from newsarchive.archive.writer import RecordLocation
from newsarchive.downloadermiddlewares.warc import REPLAYED_FLAG
from newsarchive.exceptions import ReplayMiss
from newsarchive.runstatus import mark_failed

logger = logging.getLogger(__name__)

#: Headers Twisted consumes for framing and never hands to Scrapy; a replayed response must
#: not carry them either (the archived Content-Length states the stored length, not the wire).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "content-length",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass(frozen=True)
class ReplayConfig:
    """What the middleware needs from the settings."""

    archive: str

    @classmethod
    def from_settings(cls, settings) -> ReplayConfig:
        return cls(archive=str(settings.get("NEWSARCHIVE_REPLAY", defaults.NEWSARCHIVE_REPLAY)))


def scrapy_headers(record: ArchivedRecord) -> Headers:
    """The archived HTTP headers as Scrapy's download handler would have passed them on."""
    headers = Headers()
    for name, value in record.headers:
        lname = name.lower()
        if lname in HOP_BY_HOP or lname.startswith(RENAMED_HEADER_PREFIX.lower()):
            continue
        headers.appendlist(name, value)
    return headers


def response_from_record(request: Request, record: ArchivedRecord) -> Response:
    """A Scrapy response of the class the HTTP handler would have chosen, flagged ``replayed``."""
    headers = scrapy_headers(record)
    body = entity_body(record)
    cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
    ip = None
    if record.ip_address:
        try:
            ip = ipaddress.ip_address(record.ip_address.strip())
        except ValueError:
            ip = None
    return cls(
        url=request.url,
        status=record.status or 200,
        headers=headers,
        body=body,
        flags=[REPLAYED_FLAG],
        request=request,
        ip_address=ip,
        protocol=record.protocol,
    )


class ReplayMiddleware:
    """Downloader middleware serving every request from ``NEWSARCHIVE_REPLAY``."""

    def __init__(self, crawler: Crawler, config: ReplayConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.index: ArchiveIndex | None = None
        self.error: ArchiveError | None = None
        try:
            self.index = ArchiveIndex([config.archive])
        except ArchiveError as exc:
            self.error = exc

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayMiddleware:
        config = ReplayConfig.from_settings(crawler.settings)
        if not config.archive:
            # The normal case (a live crawl): said at DEBUG; a NotConfigured with a message
            # would be a WARNING in every run's log.
            logger.debug("Replay off: NEWSARCHIVE_REPLAY is not set")
            raise NotConfigured
        middleware = cls(crawler, config)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        stats = self.crawler.stats
        if self.error is not None:
            logger.error("Cannot replay NEWSARCHIVE_REPLAY=%s: %s", self.config.archive, self.error)
            mark_failed(self.crawler, "replay")
            stats.set_value("newsarchive/replay/error", str(self.error))
            # Every request is then a miss: the crawl ends at once, and never goes online.
            return
        assert self.index is not None
        stats.set_value("newsarchive/replay/files", len(self.index.files))
        stats.set_value("newsarchive/replay/urls", len(self.index))
        logger.info(
            "Replaying %d URLs from %d archive file(s) in %s; no request goes to the network",
            len(self.index),
            len(self.index.files),
            self.config.archive,
        )

    def spider_closed(self, spider: Spider) -> None:
        related = self.index.related if self.index is not None else None
        if related is not None and related.loaded:
            stats = self.crawler.stats
            stats.set_value("newsarchive/replay/sibling_runs", len(related.folders))
            if related.errors:
                stats.set_value("newsarchive/replay/sibling_unreadable", len(related.errors))

    def process_request(self, request: Request, spider: Spider | None = None) -> Response:
        stats = self.crawler.stats
        record: ArchivedRecord | None = None
        if self.index is not None:
            try:
                record = self.index.lookup(request.url)
            except ArchiveError as exc:
                logger.error("Replay cannot read the capture of %s: %s", request.url, exc)
                stats.inc_value("newsarchive/replay/unreadable")
                raise ReplayMiss(f"unreadable in the archive: {request.url}") from exc
        if record is None or record.payload is None:
            stats.inc_value("newsarchive/replay/miss")
            why = "not in the archive" if record is None else "revisit without its original"
            logger.info("Replay miss (%s): %s", why, request.url)
            raise ReplayMiss(f"{why}: {request.url}")
        stats.inc_value("newsarchive/replay/hit")
        if record.rec_type == "revisit":
            stats.inc_value("newsarchive/replay/revisit")
        # Provenance: items of a replayed crawl point at the record they were rebuilt from.
        request.meta[metakeys.WARC_RECORD] = RecordLocation(
            filename=record.source.filename,
            offset=record.offset,
            length=record.length,
            record_id=record.record_id or "",
            payload_digest=record.payload_digest,
            record_type=record.rec_type,
        )
        moment = parse_warc_date(record.date)
        if moment is not None:
            request.meta[metakeys.FETCHED_AT] = moment
        return response_from_record(request, record)
