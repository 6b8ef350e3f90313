"""Report the download failures of requests that have no errback.

Our spiders give every request an errback that reports its failure (``errors.jsonl``, the
accounting). A user's own spider usually gives none, and Scrapy then only logs the failure (a
robots.txt refusal not even that), so the URL would end the run with no fate. This middleware
sees every exception the download chain did not settle and reports it for such requests.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.python.failure import Failure

from newsarchive import default_settings
from newsarchive.extensions.errorlog import report_failure


class FailureReportMiddleware:
    """Hand failures of errback-less requests to :func:`report_failure` (phase ``fetch``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailureReportMiddleware:
        if not crawler.settings.getbool(
            "NEWSARCHIVE_ACCOUNTING_ENABLED", default_settings.NEWSARCHIVE_ACCOUNTING_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_ACCOUNTING_ENABLED is false")
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if request.errback is None:  # a request with an errback reports there
            failure = Failure(exception)
            failure.request = request  # type: ignore[attr-defined] - as Scrapy's errbacks get it
            report_failure(self.crawler, failure, "fetch")
        return None
