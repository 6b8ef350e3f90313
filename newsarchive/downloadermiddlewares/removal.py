"""Notice a known article that is gone: archived as it is, a ``changes.jsonl`` line, no item.

A request for an article that gave an item accepts ``404``/``410`` (``handle_httpstatus_list``),
so the answer reaches the spider instead of the error log: a live article taken down is news,
not a failure. The answer is archived by the WARC middleware like any other; when it says the
article is gone (:func:`newsarchive.discovery.removal.removal_reason`: 404, 410, or a redirect
to a section page) the state store marks the article removed (and stops sending its old
validators, so a return comes back in full and becomes a new version), the change log gets a
``removed`` line the first time, and the spider yields no item (``metakeys.REMOVED``).

Sits above the conditional middleware: its ``process_response`` runs after the record is
written (the line names it) and sees the end of a redirect chain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive import default_settings as defaults
from newsarchive import metakeys
from newsarchive.discovery.dates import iso_utc
from newsarchive.discovery.removal import GONE_STATUSES, removal_reason
from newsarchive.signals import article_changed
from newsarchive.state.session import state_for


@dataclass(frozen=True)
class RemovalConfig:
    run_id: str


class RemovalMiddleware:
    """Downloader middleware: known articles answering 404/410 or redirecting to a section."""

    def __init__(self, crawler: Crawler, config: RemovalConfig) -> None:
        self.crawler = crawler
        self.config = config

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RemovalMiddleware:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_REMOVAL_ENABLED", defaults.NEWSARCHIVE_REMOVAL_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_REMOVAL_ENABLED is false")
        return cls(crawler, RemovalConfig(run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        key = metakeys.request_key(request.meta)
        store = state_for(self.crawler)
        if key is None or store is None:
            return
        known = store.article(key)
        if known is None or known.version == 0:
            return
        statuses = list(request.meta.get("handle_httpstatus_list", []))
        wanted = [s for s in GONE_STATUSES if s not in statuses]
        if wanted:
            request.meta["handle_httpstatus_list"] = [*statuses, *wanted]

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        key = metakeys.request_key(request.meta)
        store = state_for(self.crawler)
        if key is None or store is None:
            return response
        redirects = request.meta.get("redirect_urls") or [request.url]
        reason = removal_reason(response.status, redirects[0], response.url)
        if reason is None:
            return response
        known = store.article(key)
        if known is None or known.version == 0:
            return response
        request.meta[metakeys.REMOVED] = reason
        request.meta[metakeys.ROLE] = "removed"  # accounting: not_article/removed
        fetched_at = request.meta.get(metakeys.FETCHED_AT) or datetime.now(UTC)
        stats = self.crawler.stats
        location = request.meta.get(metakeys.WARC_RECORD)
        if known.removed is None:
            line = {
                "kind": "removed",
                "article_key": known.article_id,
                "url": redirects[0],
                "old_version": known.version,
                "new_version": None,
                "old_record": asdict(known.record) if known.record is not None else None,
                "new_record": {
                    "run_id": self.config.run_id,
                    "filename": location.filename,
                    "offset": location.offset,
                    "length": location.length,
                    "record_id": location.record_id,
                    "uri": response.url,
                }
                if location is not None
                else None,
                "changes": None,
                "reason": reason,
                "status": response.status,
                "fetched_at": iso_utc(fetched_at),
            }
            self.crawler.signals.send_catch_log(article_changed, line=line)
            stats.inc_value("newsarchive/removal/removed")
            spider_logger = getattr(spider or self.crawler.spider, "logger", None)
            if spider_logger is not None:
                spider_logger.info("Article removed (%s): %s", reason, redirects[0])
        else:
            stats.inc_value("newsarchive/removal/still_removed")
        store.record_removed(key, fetched_at, reason, self.config.run_id)
        return response
