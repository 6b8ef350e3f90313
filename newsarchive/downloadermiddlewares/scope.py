"""Keep every download on the crawl's hosts, retried and redirected requests included.

Scrapy's OffsiteMiddleware lets any request with ``dont_filter`` through, and retries set
``dont_filter``; so a retried request that then redirects to another host would be fetched.
This middleware checks the host of every request against ``allowed_domains`` whatever its
``dont_filter``; only ``meta["allow_offsite"]`` lets a request out.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.url import url_is_from_any_domain

from newsarchive import default_settings as defaults


class ScopeMiddleware:
    """Refuse (as an offsite skip) any request outside the spider's ``allowed_domains``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        if not crawler.settings.getbool(
            "NEWSARCHIVE_SCOPE_ENABLED", defaults.NEWSARCHIVE_SCOPE_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_SCOPE_ENABLED is false")
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        domains = getattr(self.crawler.spider, "allowed_domains", None)
        if not domains or request.meta.get("allow_offsite"):
            return
        if request.url.endswith("/robots.txt") and request.meta.get("dont_obey_robotstxt"):
            return  # RobotsTxtMiddleware's own fetch for an allowed host's redirect target
        if not url_is_from_any_domain(request.url, domains):
            self.crawler.stats.inc_value("newsarchive/scope/filtered")
            host = urlparse_cached(request).hostname
            raise IgnoreRequest(f"Filtered offsite request to {host!r} (newsarchive scope)")
