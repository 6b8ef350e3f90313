"""``errors.jsonl``: one line per URL the run could not turn into a response or an item.

A crawl that "finishes" with articles silently missing is the failure users of news crawlers
report most; this file makes every loss visible: ``url``, ``origin`` (the URL the spider asked
for, before redirects), ``phase`` (discovery, fetch, parse, extract), ``reason`` (a short
slug), ``attempts`` and ``detail``. Each line is also a stat ``newsarchive/errors/<phase>/<reason>``
and a log line. Robots.txt and off-scope refusals are skips, not errors: they are only counted;
so is a replay miss (a request that is not in the archive being replayed).

Spiders report errback failures with :func:`report_failure`; callback exceptions
(``spider_error``) and items dropped for other reasons than "not an article" are caught here.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newsarchive import default_settings as defaults
from newsarchive import metakeys
from newsarchive.exceptions import ReplayMiss, UnchangedArticle
from newsarchive.runfolder import run_folder, worker_file, worker_of

logger = logging.getLogger(__name__)

#: Sent by :func:`report_failure`: ``request``, ``failure``, ``phase``.
url_failed = object()
#: Sent by :func:`report_error`: ``request``, ``phase``, ``reason``, ``detail``.
error_reported = object()
#: Sent by the error log for every classified failure: ``origin``, ``kind``, ``reason``
#: (``kind`` is ``error``, ``robots``, ``offsite`` or ``replay_miss``); the accounting extension
#: listens.
url_outcome = object()
#: How the extract pipeline words a drop that is a verdict, not a failure.
NOT_ARTICLE_PREFIX = "not an article"

_SLUG = re.compile(r"[^a-z0-9_]+")
#: Scrapy's own IgnoreRequest wordings (RobotsTxtMiddleware, OffsiteMiddleware and our scope
#: middleware, HttpCompressionMiddleware, RedirectMiddleware).
ROBOTS_MESSAGE = "Forbidden by robots.txt"
OFFSITE_PREFIX = "Filtered offsite request to "
MAXSIZE_SUFFIX = re.compile(r"\) exceeded DOWNLOAD_MAXSIZE \(\d+ B\) during decompression\.$")
REDIRECT_LIMIT_MESSAGE = "max redirections reached"


def report_failure(crawler: Crawler, failure: Failure, phase: str) -> None:
    """Tell the error log that ``failure.request`` failed during ``phase`` (from an errback)."""
    crawler.signals.send_catch_log(
        url_failed, request=failure.request, failure=failure, phase=phase
    )


def report_error(crawler: Crawler, request: Request, phase: str, reason: str, detail: str) -> None:
    """Tell the error log about a failure that is not a Twisted failure (a redirect loop)."""
    crawler.signals.send_catch_log(
        error_reported, request=request, phase=phase, reason=reason, detail=detail
    )


def classify(failure: Failure | BaseException) -> tuple[str, str]:
    """``(kind, reason)`` of a failure: kind ``error``, ``robots``, ``offsite``, ``replay_miss``."""
    exc = failure.value if isinstance(failure, Failure) else failure
    name = type(exc).__name__
    if isinstance(exc, ReplayMiss):  # "a counted miss, not an error" (newsarchive/replay/miss)
        return "replay_miss", "replay_miss"
    if isinstance(exc, HttpError):
        return "error", f"http_{exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        # Scrapy raises plain IgnoreRequest for all of these: match its fixed wording as a
        # whole, never words anywhere in the message (which may hold a URL: ".../robots.txt").
        message = str(exc)
        if message == ROBOTS_MESSAGE:
            return "robots", "robots_txt"
        if message.startswith(OFFSITE_PREFIX):
            return "offsite", "offsite"
        if MAXSIZE_SUFFIX.search(message):
            return "error", "decompressed_too_large"
        if message == REDIRECT_LIMIT_MESSAGE:
            return "error", "redirect_limit"
        return "error", "ignored"
    if name == "ResponseDataLossError":
        return "error", "data_loss"
    if name in ("DownloadFailedError", "DownloadConnectionRefusedError", "CannotResolveHostError"):
        return "error", "connection_lost" if name == "DownloadFailedError" else _slug(name)
    if name in ("DownloadCancelledError", "CancelledError"):
        return "error", "too_large"
    if "Timeout" in name:
        return "error", "timeout"
    if name in ("ResponseFailed", "ResponseNeverReceived", "_DataLoss", "PotentialDataLoss"):
        text = repr(getattr(exc, "reasons", "")) + str(exc)
        return "error", "data_loss" if "DataLoss" in text else "connection_lost"
    if name in ("ConnectionLost", "ConnectionDone", "ConnectionRefusedError"):
        return "error", "connection_lost"
    if name in ("BadGzipFile", "error", "DecompressionError") or "zlib" in type(exc).__module__:
        return "error", "bad_content_encoding"
    return "error", _slug(name)


def _slug(text: str) -> str:
    return _SLUG.sub("_", text.lower()).strip("_")[:40] or "unknown"


@dataclass(frozen=True)
class ErrorLogConfig:
    """Where ``errors.jsonl`` goes."""

    output: str
    run_id: str
    #: A distributed worker writes ``errors-<worker>.jsonl``.
    worker: str | None = None


class ErrorLogExtension:
    """Write ``errors.jsonl`` in the run folder; count and log every failure once per URL."""

    def __init__(self, crawler: Crawler, config: ErrorLogConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.path: Path | None = None
        self._file: Any = None
        self._written: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ErrorLogExtension:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_ERRORLOG_ENABLED", defaults.NEWSARCHIVE_ERRORLOG_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_ERRORLOG_ENABLED is false")
        config = ErrorLogConfig(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
            worker=worker_of(settings),
        )
        ext = cls(crawler, config)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.url_failed, signal=url_failed)
        crawler.signals.connect(ext.error_reported, signal=error_reported)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        folder = run_folder(self.config.output, spider.name, self.config.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / worker_file("errors.jsonl", self.config.worker)
        self._file = self.path.open("a", encoding="utf-8")

    def spider_closed(self, spider: Spider) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.crawler.stats.set_value("newsarchive/errors/urls", len(self._written))

    def url_failed(self, request: Request, failure: Failure, phase: str) -> None:
        kind, reason = classify(failure)
        self._outcome(request, phase, kind, reason, failure.getErrorMessage())

    def error_reported(self, request: Request, phase: str, reason: str, detail: str) -> None:
        self._outcome(request, phase, "error", reason, detail)

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        self._outcome(
            response.request,
            "parse",
            "error",
            _slug(type(failure.value).__name__),
            failure.getErrorMessage(),
            url=response.url,
        )

    def item_dropped(
        self, item: Any, response: Response, exception: BaseException, spider: Spider
    ) -> None:
        if isinstance(exception, UnchangedArticle) or str(exception).startswith(NOT_ARTICLE_PREFIX):
            return  # a verdict about the page, counted by the accounting extension
        # A drop may name its reason (the extract pipeline: extraction_timeout, ...).
        reason = getattr(exception, "reason", None) or "extraction_failed"
        self._outcome(
            response.request,
            "extract",
            "error",
            _slug(str(reason)),
            str(exception),
            url=response.url,
        )

    def _outcome(
        self,
        request: Request | None,
        phase: str,
        kind: str,
        reason: str,
        detail: str,
        url: str | None = None,
    ) -> None:
        stats = self.crawler.stats
        meta = request.meta if request is not None else {}
        url = url or (request.url if request is not None else "")
        origin = meta.get(metakeys.ORIGIN, url)
        if kind != "error":
            stats.inc_value(f"newsarchive/errors/skipped/{kind}")
        elif origin not in self._written:
            self._written.add(origin)
            stats.inc_value(f"newsarchive/errors/{phase}/{reason}")
            line = {
                "url": url,
                "origin": origin,
                "phase": phase,
                "reason": reason,
                "attempts": int(meta.get("retry_times", 0)) + 1,
                "detail": detail[:500],
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            if self._file is not None:
                self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
                self._file.flush()
            logger.error(
                "%s failed (%s) for %s after %d attempt(s): %s",
                phase,
                reason,
                url,
                line["attempts"],
                line["detail"],
            )
        self.crawler.signals.send_catch_log(url_outcome, origin=origin, kind=kind, reason=reason)
