"""Page requisites (``-a requisites=1``): fetch what each article page needs to render, once.

For every article page the spider was handed (a 200 HTML response to an article request), the
page's stylesheets, images, icons (and, if asked, scripts) are requested, as are the fonts and
images its stylesheets name (:mod:`newsarchive.discovery.requisites` finds them). They are
archived like every response (request and response records, a revisit when the same bytes were
archived before, this run or an earlier one) and give no item.

Rules, in the order they apply to each URL found:

* scope (:class:`newsarchive.discovery.assethosts.RequisiteScope`): a denied host (tracker,
  analytics, ads) is never requested (``not_requested/requisite_denied``); neither is a host other
  than the page's own, its Pangea asset hosts and ``NEWSARCHIVE_REQUISITES_HOSTS``
  (``not_requested/requisite_offsite``);
* once per run: a URL already requested as a requisite is not requested again
  (``newsarchive/requisites/shared``);
* count cap: at most ``NEWSARCHIVE_REQUISITES_MAX_PER_PAGE`` requests per page, stylesheet
  children charged to the page that first needed the stylesheet
  (``not_requested/requisite_over_count``);
* robots.txt (Scrapy's middleware, as for every request), the per-resource and per-page size
  caps and the audio/video guard (``newsarchive/downloadermiddlewares/requisitebudget.py``):
  skips ``requisite_too_large``, ``requisite_page_maxsize``, ``requisite_media``.

Accounting: a fetched requisite's outcome is ``requisite/<kind>``; one not fetched is a skip with
its reason; a failed one an error in ``errors.jsonl`` (phase ``requisite``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from newsarchive import metakeys
from newsarchive.arguments import requisites_wanted
from newsarchive.discovery.requisites import Requisite, page_requisites, stylesheet_requisites
from newsarchive.downloadermiddlewares.requisitebudget import (
    BUDGET_KEY,
    PageBudget,
    RequisiteRefused,
    RequisitesConfig,
)
from newsarchive.extensions.accounting import not_requested
from newsarchive.extensions.errorlog import classify, report_failure, url_outcome

logger = logging.getLogger(__name__)

#: ``newsarchive_role`` of requisite requests: ``requisite:<kind>``.
ROLE_PREFIX = "requisite:"
STATS = "newsarchive/requisites/"


class RequisitesMiddleware:
    """Spider middleware: after an article page's own output, the requests for its requisites."""

    def __init__(self, crawler: Crawler, config: RequisitesConfig) -> None:
        self.crawler = crawler
        self.config = config
        #: Every requisite URL requested this run (each is fetched once however many pages use it).
        self.requested: set[str] = set()
        #: Asset hosts whose robots.txt was requested (the pages' own hosts had theirs from the
        #: spider, first).
        self.robots_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequisitesMiddleware:
        if not requisites_wanted(crawler):
            # The default: said at DEBUG (a NotConfigured message is a WARNING in every log).
            logger.debug("Page requisites off (-a requisites=1 turns them on)")
            raise NotConfigured
        return cls(crawler, RequisitesConfig.from_settings(crawler.settings))

    # -- the article page's output, plus its requisites --------------------------------------
    def process_spider_output(
        self, response: Response, result: Iterable[Any], spider: Spider | None = None
    ) -> Iterator[Any]:
        yield from result
        yield from self.page_requests(response)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider: Spider | None = None
    ) -> AsyncIterator[Any]:
        async for output in result:
            yield output
        for request in self.page_requests(response):
            yield request

    def is_article_page(self, response: Response) -> bool:
        """A 200 HTML answer to an article request (ours carry an article key; a user's spider
        marks them ``newsarchive_article``), not to a requisite or a discovery request."""
        meta = response.request.meta if response.request is not None else {}
        return (
            response.status == 200
            and isinstance(response, TextResponse)
            and BUDGET_KEY not in meta
            and metakeys.ROLE not in meta
            and (bool(meta.get(metakeys.ARTICLE)) or metakeys.request_key(meta) is not None)
        )

    def page_requests(self, response: Response) -> Iterator[Request]:
        if not self.is_article_page(response):
            return
        config = self.config
        budget = PageBudget(response.url, config.max_per_page, config.page_maxsize)
        found = page_requisites(
            response.body, response.url, scripts=config.scripts, encoding=response.encoding
        )
        self.crawler.stats.inc_value(STATS + "pages")
        for requisite in found:
            yield from self._request(requisite, budget)

    # -- one requisite -------------------------------------------------------------------------
    def _request(self, requisite: Requisite, budget: PageBudget) -> Iterator[Request]:
        stats = self.crawler.stats
        url = requisite.url
        reason = self.config.scope.verdict(url, budget.page)
        if reason is None and url in self.requested:
            stats.inc_value(STATS + "shared")
            return
        if reason is None and budget.count_left <= 0:
            reason = "requisite_over_count"
        if reason is not None:
            stats.inc_value(f"{STATS}not_requested/{reason}")
            not_requested(self.crawler, url, reason)
            return
        yield from self._robots_request(url, budget.page)
        self.requested.add(url)
        budget.count_left -= 1
        stats.inc_value(f"{STATS}requested/{requisite.kind}")
        yield Request(
            url,
            callback=self.parse_requisite,
            errback=self.requisite_failed,
            meta={
                metakeys.ROLE: ROLE_PREFIX + requisite.kind,
                BUDGET_KEY: budget,
                "allow_offsite": True,  # the scope is ours (asset hosts), checked above and
                # again by the budget middleware for every redirect
                "download_maxsize": self.config.maxsize,
            },
        )

    def _robots_request(self, url: str, page: str) -> Iterator[Request]:
        """An asset host's robots.txt, before its first requisite (as the spiders ask for their
        hosts' first): the robots middleware builds the host's rules from this response, and
        the requisite waits for them. Scrapy's own robots.txt download would be refused as
        off-site, leaving the host without rules."""
        parts = urlsplit(url)
        host = parts.netloc.lower()
        if host in self.robots_hosts or parts.hostname == urlsplit(page).hostname:
            return
        self.robots_hosts.add(host)
        yield Request(
            f"{parts.scheme}://{parts.netloc}/robots.txt",
            callback=self.parse_requisite,
            errback=self.requisite_failed,
            meta={
                metakeys.ROLE: "robots",
                "handle_httpstatus_list": [404, 410],  # no robots.txt: no rules, no error
                "allow_offsite": True,
            },
            priority=100,
        )

    def parse_requisite(self, response: Response) -> Iterator[Request]:
        """A stylesheet's ``@import`` and ``url()`` targets; every other requisite ends here."""
        budget: PageBudget | None = response.meta.get(BUDGET_KEY)
        if budget is None or not isinstance(response, TextResponse) or not _is_css(response):
            return
        for requisite in stylesheet_requisites(response.text, response.url):
            yield from self._request(requisite, budget)

    def requisite_failed(self, failure: Failure) -> None:
        """A cap or guard that stopped a requisite is a skip with its reason; anything else
        (a 404, a timeout) an error of phase ``requisite``, in ``errors.jsonl``."""
        exc = failure.value
        request = failure.request
        reason = None
        if isinstance(exc, RequisiteRefused):
            reason = exc.reason
        elif isinstance(exc, StopDownload):
            reason = "requisite_media"
        elif classify(failure)[1] in ("too_large", "decompressed_too_large"):
            # download_maxsize stopped it: the resource cap, or what the page had left
            capped = request.meta.get("download_maxsize", self.config.maxsize)
            page_cap = capped < self.config.maxsize
            reason = "requisite_page_maxsize" if page_cap else "requisite_too_large"
        if reason is None:
            report_failure(self.crawler, failure, "requisite")
            return
        self.crawler.stats.inc_value(f"{STATS}skipped/{reason}")
        origin = request.meta.get(metakeys.ORIGIN, request.url)
        self.crawler.signals.send_catch_log(
            url_outcome, origin=origin, kind="requisite", reason=reason
        )


def _is_css(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    kind = str(response.meta.get(metakeys.ROLE, ""))
    return "text/css" in ctype or (not ctype and kind == ROLE_PREFIX + "stylesheet")
