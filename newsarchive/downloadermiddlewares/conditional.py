"""Ask for known articles conditionally, and register every archived payload for later runs.

A known article (one the state store has a full response record for) is requested with
``If-None-Match`` / ``If-Modified-Since``; a ``304`` comes back to the spider (it is in
``handle_httpstatus_list``), is archived by the WARC middleware as a ``server-not-modified``
revisit of the stored record (``request.meta["newsarchive_revisit_of"]``), and settles the fetch.

Sits just below the WARC middleware: its ``process_response`` runs right after the record is
written, so the record's payload digest is registered as a revisit target at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive import default_settings as defaults
from newsarchive import metakeys
from newsarchive.archive.records import warc_date
from newsarchive.state.rows import StoredRecord
from newsarchive.state.session import state_for
from newsarchive.state.store import StateStore


@dataclass(frozen=True)
class ConditionalConfig:
    run_id: str
    """Recorded with each registered payload (which run's folder holds the record)."""


def full_recrawl(crawler: Crawler) -> bool:
    """``NEWSARCHIVE_FULL_RECRAWL`` or the spider's ``-a full=1``."""
    if crawler.settings.getbool("NEWSARCHIVE_FULL_RECRAWL", defaults.NEWSARCHIVE_FULL_RECRAWL):
        return True
    return bool(getattr(crawler.spider, "full_recrawl", False))


class ConditionalRequestMiddleware:
    """Downloader middleware: conditional requests for known articles; payload registration."""

    def __init__(self, crawler: Crawler, config: ConditionalConfig) -> None:
        self.crawler = crawler
        self.config = config

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_CONDITIONAL_ENABLED", defaults.NEWSARCHIVE_CONDITIONAL_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_CONDITIONAL_ENABLED is false")
        config = ConditionalConfig(run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run")
        return cls(crawler, config)

    @property
    def store(self) -> StateStore | None:
        return state_for(self.crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        aid = metakeys.request_key(request.meta)
        store = self.store
        if aid is None or store is None or request.meta.get(metakeys.CONDITIONAL) is False:
            return
        if full_recrawl(self.crawler):
            return
        known = store.article(aid)
        if known is None or known.record is None or not (known.etag or known.last_modified):
            return
        if known.removed is not None:  # gone last time: a return must come back in full
            return
        if known.etag:
            request.headers[b"If-None-Match"] = known.etag
        if known.last_modified:
            request.headers[b"If-Modified-Since"] = known.last_modified
        request.meta[metakeys.REVISIT_OF] = known.record
        statuses = list(request.meta.get("handle_httpstatus_list", []))
        if 304 not in statuses:
            request.meta["handle_httpstatus_list"] = [*statuses, 304]
        self.crawler.stats.inc_value("newsarchive/conditional/requests")

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        store = self.store
        if store is None:
            return response
        location = request.meta.get(metakeys.WARC_RECORD)
        fetched_at = request.meta.get(metakeys.FETCHED_AT) or datetime.now(UTC)
        if location is not None and location.record_type == "response":
            store.remember_original(
                StoredRecord(
                    uri=response.url,
                    date=warc_date(fetched_at),
                    record_id=location.record_id,
                    payload_digest=location.payload_digest,
                    run_id=self.config.run_id,
                    filename=location.filename,
                    offset=location.offset,
                    length=location.length,
                )
            )
        aid = metakeys.request_key(request.meta)
        if aid is None or response.status not in (200, 304):
            return response
        stats = self.crawler.stats
        stats.inc_value("newsarchive/conditional/fetched")
        if response.status == 304:
            stats.inc_value("newsarchive/conditional/not_modified")
            store.record_not_modified(
                aid,
                fetched_at,
                _header(response, b"ETag"),
                _header(response, b"Last-Modified"),
            )
        return response


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
