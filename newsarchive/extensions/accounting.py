"""At close, say what became of every URL the crawl discovered: nothing may go missing.

A URL the crawl came to know (a start URL, or one listed by robots.txt, a sitemap, a feed or a
page) is either requested or not. Discovery reports each listed URL it decides not to request
with :func:`not_requested` (``duplicate_article``, ``before_since``, ``known_skipped``, ...);
the requests are seen here when scheduled. So ``discovered = requested + not requested``.

Each request is tagged with its origin URL when first scheduled (retries and redirects keep the
tag). Its fate is the strongest thing that happened to it, in this order: an item; an unchanged
article; a line in ``errors.jsonl``; an archived response that is not an article (counted by
reason: ``robots``, ``sitemap:news``, ``not_html``, the extractor's verdict, ...); a robots.txt
or off-scope skip; a duplicate (the dupe filter dropped it, or it redirected to a URL another
request fetched). So ``requested = item + unchanged + error + requisite + not_article + skipped +
duplicate`` (+ ``pending`` + ``unaccounted``, below). A *requisite* is a page requisite fetched and
archived (``-a requisites=1``; by kind: ``stylesheet``, ``image``, ``font``, ``icon``, ``script``).

An *unchanged* article is an article, archived (as a revisit, mostly), whose earlier item
stands, so it yields none; it is neither a failure nor a non-article. By reason:
``not_modified`` (the server answered our conditional request with 304, and the state store
holds an item of the article) and ``same_content`` (a 200 whose item says what an item already
said: an earlier run's, or this run's under another URL;
:class:`newsarchive.pipelines.dedupe.UnchangedArticle`). A 304 for a page that never gave an
item (a live blog, a media page: the extractor said "not an article") stays what it was:
``not_article/not_modified``.
A run stopped early (``CLOSESPIDER_*``, SIGTERM: any finish reason but ``finished``) leaves
requests queued or in flight with no fate yet: those are *pending*, what the user asked for,
by where they were when the run stopped: ``pending/queued`` (never left the scheduler),
``pending/in_flight`` (at the downloader) and ``pending/interrupted`` (downloaded, but the run
stopped before the response was processed). In a run that finished, anything without a fate is
*unaccounted*, a bug, and fails the run.

Stats: ``newsarchive/accounting/discovered``, ``.../requested``, ``.../<outcome>[/<reason>]``,
``.../pending[/<where>]``, ``.../not_requested[/<reason>]``.

Distributed (``NEWSARCHIVE_DISTRIBUTED``): one worker schedules a URL, another fetches it. Each
worker's stats and ``urls-<worker>.jsonl`` account for the URLs it scheduled or worked on (one
another worker took is ``pending/queued`` there), and every worker also writes each URL's fate
into the run's ledger in Redis (:mod:`newsarchive.cluster.ledger`), strongest fate wins, as it
happens: ``scrapy runmerge`` takes the run's fates from it, a SIGKILLed worker's included.

The same table, one line per discovered URL, is the run's ``urls.jsonl``
(:class:`newsarchive.items.UrlRecord`: outcome, reason, HTTP status, attempts, where it was
found, when fetched, redirect chain, WARC file and offset): the stats are counted from those
lines, so the two agree by construction.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.utils.url import url_is_from_any_domain
from w3lib.url import safe_url_string

from newsarchive import default_settings as defaults
from newsarchive import metakeys
from newsarchive.cluster.ledger import Ledger
from newsarchive.discovery.dates import iso_utc
from newsarchive.exceptions import UnchangedArticle
from newsarchive.extensions.distributed import cluster_for
from newsarchive.extensions.errorlog import (
    NOT_ARTICLE_PREFIX,
    report_error,
    url_outcome,
)
from newsarchive.items import UrlRecord, WarcPosition
from newsarchive.runfolder import run_folder, worker_file, worker_of
from newsarchive.runstatus import mark_failed
from newsarchive.state import ArticleState
from newsarchive.state.session import state_for
from newsarchive.urllog import URLS_FILE, UrlSeen, count_records, write_records

logger = logging.getLogger(__name__)

PREFIX = "newsarchive/accounting/"
#: Outcomes from strongest to weakest; a URL ends in the strongest one it reached.
OUTCOMES = ("item", "unchanged", "error", "requisite", "not_article", "skipped", "duplicate")
_RANK = {name: i for i, name in enumerate(OUTCOMES)}
_SLUG = re.compile(r"[^a-z0-9_:-]+")
#: Sent by :func:`not_requested`: ``url``, ``reason``, ``source``.
url_not_requested = object()


def not_requested(crawler: Crawler, url: str, reason: str, source: str | None = None) -> None:
    """Discovery listed ``url`` and decided not to request it, for ``reason`` (a short slug);
    ``source``: where it was listed (``discovered_from`` in ``urls.jsonl``).

    Spiders call this wherever they drop a listed URL; a URL reported more than once keeps its
    first reason, and one requested after all (a later listing wanted it) counts as requested.
    """
    crawler.signals.send_catch_log(url_not_requested, url=url, reason=reason, source=source)


def _discovered_from(request: Request) -> str | None:
    hints = request.meta.get(metakeys.HINTS) or {}
    if hints.get("discovered_from"):
        return str(hints["discovered_from"])
    referer = request.headers.get("Referer")
    return referer.decode("latin-1") if referer else None


def _in_scope(url: str, spider: Spider) -> bool:
    domains = getattr(spider, "allowed_domains", None)
    return not domains or url_is_from_any_domain(url, domains)


def _slug(text: str) -> str:
    return _SLUG.sub("_", text.lower()).strip("_")[:40] or "unknown"


def not_modified_fate(known: ArticleState | None) -> tuple[str, str]:
    """Fate of a 304 to our conditional request: the stored version stands, so an article with
    an item is unchanged; a page that gave none (not an article last time) still gives none."""
    if known is not None and (known.version > 0 or known.item_digest):
        return "unchanged", "not_modified"
    return "not_article", "not_modified"


class AccountingExtension:
    """Track the fate of every requested URL and write the sums into the stats at close."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.fate: dict[str, tuple[str, str] | None] = {}
        #: What was seen of each requested URL (status, WARC record, ...), for ``urls.jsonl``.
        self.seen: dict[str, UrlSeen] = {}
        #: Listed URLs discovery did not request, with the first reason given (and where).
        self.dropped: dict[str, str] = {}
        self.dropped_from: dict[str, str | None] = {}
        #: Origins whose request (or a retry or redirect of it) reached the downloader, and how
        #: many of those are there now: where a URL without a fate was when a run stopped early.
        self.downloaded: set[str] = set()
        self.at_downloader: Counter[str] = Counter()
        self._ledger: Ledger | bool | None = False  # False: not looked up yet

    @property
    def ledger(self) -> Ledger | None:
        """The run's ledger in a distributed run (looked up once the crawler is built)."""
        if self._ledger is False:
            cluster = cluster_for(self.crawler)
            self._ledger = cluster.ledger if cluster is not None else None
        return self._ledger or None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AccountingExtension:
        if not crawler.settings.getbool(
            "NEWSARCHIVE_ACCOUNTING_ENABLED", defaults.NEWSARCHIVE_ACCOUNTING_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_ACCOUNTING_ENABLED is false")
        ext = cls(crawler)
        connect = crawler.signals.connect
        connect(ext.request_scheduled, signal=signals.request_scheduled)
        connect(ext.request_dropped, signal=signals.request_dropped)
        connect(ext.response_received, signal=signals.response_received)
        connect(ext.request_reached_downloader, signal=signals.request_reached_downloader)
        connect(ext.request_left_downloader, signal=signals.request_left_downloader)
        connect(ext.item_scraped, signal=signals.item_scraped)
        connect(ext.item_dropped, signal=signals.item_dropped)
        connect(ext.url_outcome, signal=url_outcome)
        connect(ext.url_not_requested, signal=url_not_requested)
        connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _set(self, origin: str | None, outcome: str, reason: str) -> None:
        if origin is None:
            return
        ledger = self.ledger
        if origin not in self.fate:
            if ledger is None:
                return
            self.fate[origin] = None  # scheduled by another worker, worked on here
            self.seen[origin] = UrlSeen()
        current = self.fate[origin]
        if current is None or _RANK[outcome] <= _RANK[current[0]]:  # later news is sharper
            self.fate[origin] = (outcome, reason)
            if ledger is not None:
                ledger.fate(origin, _RANK[outcome], outcome, reason)

    @staticmethod
    def _origin(request: Request | None) -> str | None:
        return request.meta.get(metakeys.ORIGIN) if request is not None else None

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        if metakeys.ORIGIN not in request.meta:
            request.meta[metakeys.ORIGIN] = request.url
            self.fate.setdefault(request.url, None)
            if request.url not in self.seen:
                self.seen[request.url] = UrlSeen(discovered_from=_discovered_from(request))
            if self.ledger is not None:
                self.ledger.requested(request.url)
        elif "redirect_urls" in request.meta and not _in_scope(request.url, spider):
            # Scrapy's OffsiteMiddleware drops such a redirect silently, in this same signal.
            self._set(request.meta[metakeys.ORIGIN], "skipped", "offsite_redirect")

    def request_dropped(self, request: Request, spider: Spider) -> None:
        origin = self._origin(request)
        if request.url in request.meta.get("redirect_urls", ()):
            # The dupe filter drops a redirect back into its own chain: that URL failed.
            detail = " -> ".join([*request.meta["redirect_urls"], request.url])
            report_error(self.crawler, request, "fetch", "redirect_loop", detail)
        else:
            self._set(origin, "duplicate", "redirect" if "redirect_urls" in request.meta else "url")

    def request_reached_downloader(self, request: Request, spider: Spider) -> None:
        origin = self._origin(request)
        if origin is not None:
            self.downloaded.add(origin)
            self.at_downloader[origin] += 1
            if origin in self.seen:
                self.seen[origin].attempts = int(request.meta.get("retry_times", 0)) + 1

    def request_left_downloader(self, request: Request, spider: Spider) -> None:
        origin = self._origin(request)
        if origin is not None and self.at_downloader[origin] > 0:
            self.at_downloader[origin] -= 1

    def _pending_where(self, origin: str) -> str:
        if self.at_downloader[origin] > 0:
            return "in_flight"
        return "interrupted" if origin in self.downloaded else "queued"

    def _saw_response(self, response: Response, request: Request) -> None:
        seen = self.seen.get(self._origin(request) or "")
        if seen is None:
            return
        seen.status = response.status
        seen.fetched_at = iso_utc(request.meta.get(metakeys.FETCHED_AT))
        chain = request.meta.get("redirect_urls")
        seen.redirects = [*chain, response.url] if chain else []
        location = request.meta.get(metakeys.WARC_RECORD)  # this response's (or the replayed one's)
        seen.warc = (
            WarcPosition(location.filename, location.offset, location.record_type)
            if location is not None
            else None
        )

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        self._saw_response(response, request)
        if response.status == 304 and metakeys.REVISIT_OF in request.meta:
            # Our conditional request (only those carry metakeys.REVISIT_OF; a 304 nobody asked for
            # goes on to HttpError and its errback, an error).
            store, key = state_for(self.crawler), metakeys.request_key(request.meta)
            known = store.article(key) if store is not None and key else None
            self._set(self._origin(request), *not_modified_fate(known))
            return
        role = request.meta.get(metakeys.ROLE)
        if str(role).startswith("requisite:") and 200 <= response.status < 300:
            self._set(self._origin(request), "requisite", _slug(role.partition(":")[2]))
            return
        if role is None:
            role = "article_page" if isinstance(response, TextResponse) else "not_html"
        self._set(self._origin(request), "not_article", _slug(role))

    def item_scraped(self, item: Any, response: Response, spider: Spider) -> None:
        self._set(self._origin(response.request), "item", "article")

    def item_dropped(
        self, item: Any, response: Response, exception: BaseException, spider: Spider
    ) -> None:
        message = str(exception)
        if isinstance(exception, UnchangedArticle):  # archived; says what an earlier item said
            self._set(self._origin(response.request), "unchanged", "same_content")
        elif message.startswith(NOT_ARTICLE_PREFIX):
            reason = message.partition("(")[2].partition(")")[0] or "not_article"
            self._set(self._origin(response.request), "not_article", _slug(reason))

    def url_outcome(self, origin: str, kind: str, reason: str) -> None:
        self._set(origin, "error" if kind == "error" else "skipped", reason)

    def url_not_requested(self, url: str, reason: str, source: str | None = None) -> None:
        # Keyed as Request(url).url would be, so a URL requested later matches its report.
        key = safe_url_string(url)
        if key not in self.dropped:
            self.dropped[key] = _slug(reason)
            self.dropped_from[key] = source
            if self.ledger is not None:
                self.ledger.not_requested(key, self.dropped[key])

    def records(self, finished: bool = True) -> Iterator[UrlRecord]:
        """One record per discovered URL: the requested ones with their fate (or ``pending``
        when the run was stopped early, ``finished`` false, else ``unaccounted``), then the
        listed ones never requested (requested after all: they are above)."""
        for origin, fate in self.fate.items():
            if fate is not None:
                outcome, why = fate
            elif finished:
                outcome, why = "unaccounted", None
            else:
                outcome, why = "pending", self._pending_where(origin)
            seen = self.seen.get(origin) or UrlSeen()
            yield seen.record(origin, outcome, why)
        for url, why in self.dropped.items():
            if url not in self.fate:
                yield UrlRecord(url, "not_requested", why, discovered_from=self.dropped_from[url])

    def not_requested_totals(self) -> Counter[str]:
        """Reasons of the listed URLs that were never requested (requested after all: excluded)."""
        return count_records(self.records())[1]

    def totals(self, finished: bool = True) -> Counter[str]:
        """``outcome`` and ``outcome/reason`` counts, plus the URLs without a fate: ``pending``
        when the run was stopped early (``finished`` false), else ``unaccounted``."""
        return count_records(self.records(finished))[0]

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        # A distributed worker's URLs without a fate went to other workers: pending, not lost.
        records = list(self.records(finished=reason == "finished" and self.ledger is None))
        self._write_records(spider, records)
        counts, dropped = count_records(records)  # the stats are the lines, counted
        not_requested = sum(dropped.values())
        stats.set_value(PREFIX + "discovered", len(self.fate) + not_requested)
        stats.set_value(PREFIX + "not_requested", not_requested)
        for why, value in dropped.items():
            stats.set_value(f"{PREFIX}not_requested/{why}", value)
        stats.set_value(PREFIX + "requested", len(self.fate))
        for key in (*OUTCOMES, "pending", "unaccounted"):
            stats.set_value(PREFIX + key, counts.get(key, 0))
        for key, value in counts.items():
            if "/" in key:
                stats.set_value(PREFIX + key, value)
        missing = [r.url for r in records if r.outcome in ("pending", "unaccounted")]
        pending = counts.get("pending", 0)
        logger.info(
            "Accounting: %d discovered = %d requested + %d not requested (%s)",
            len(self.fate) + not_requested,
            len(self.fate),
            not_requested,
            ", ".join(f"{n} {why}" for why, n in sorted(dropped.items())) or "none",
        )
        logger.info(
            "Accounting: %d requested = %d items + %d unchanged + %d errors + %d requisites"
            " + %d non-articles archived + %d skipped + %d duplicates + %d pending"
            " + %d unaccounted",
            len(self.fate),
            *(counts.get(k, 0) for k in OUTCOMES),
            pending,
            counts.get("unaccounted", 0),
        )
        if pending:
            logger.info("Pending at close (%s): %d URLs", reason, pending)
            for where in ("queued", "in_flight", "interrupted"):
                urls = [r.url for r in records if r.outcome == "pending" and r.reason == where]
                if urls:
                    logger.info("  %d %s, e.g. %s", len(urls), where, " ".join(urls[:5]))
        elif missing:
            logger.error("Unaccounted URLs (a newsarchive bug): %s", missing[:20])
            mark_failed(self.crawler, "unaccounted_urls")

    def _write_records(self, spider: Spider, records: list[UrlRecord]) -> None:
        settings = self.crawler.settings
        if not settings.getbool("NEWSARCHIVE_URLS_ENABLED", defaults.NEWSARCHIVE_URLS_ENABLED):
            return
        folder = run_folder(
            settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            spider.name,
            settings.get("NEWSARCHIVE_RUN_ID") or "run",
        )
        folder.mkdir(parents=True, exist_ok=True)
        write_records(folder / worker_file(URLS_FILE, worker_of(settings)), records)
