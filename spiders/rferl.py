"""The ``rferl`` spider: RFE/RL and its language services, discovered from their sitemaps.

Discovery goes robots.txt → sitemap index → the ``_news`` and ``_latest`` sitemaps (plus the
numbered archive slices with ``-a since=YYYY-MM-DD``, and with ``-a sections=1`` the ``_sections``
sitemap → the home and ``/z/<id>`` section pages → the article links on them). Article ids are
global across services, so each article is fetched once even when listed under two URL forms.

Arguments: ``-a sites=www.rferl.org,svoboda`` (hosts or short names; default all services),
``-a since=2025-01-01`` (walk the archive slices, keep what changed on or after that day),
``-a feeds=0`` (do not try RSS feeds), ``-a sections=1`` (also read the section pages),
``-a full=1`` (fetch every article in full, whatever
the state store knows; same as ``NEWSARCHIVE_FULL_RECRAWL``), ``-a requisites=1`` (also archive
each article's stylesheets, fonts, images and icons, from the service's own and Pangea asset
hosts: ``newsarchive/spidermiddlewares/requisites.py``).

Scheduled runs fetch a known article again only when its sitemap lastmod is newer than our last
fetch or it is inside ``NEWSARCHIVE_REFRESH_WINDOW`` hours of publication (docs/scheduling.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import scrapy
from protego import Protego
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.gz import gunzip

from newsarchive import metakeys
from newsarchive.arguments import check_known, parse_flag, parse_since
from newsarchive.discovery.feeds import NotAFeed, iter_feed
from newsarchive.discovery.pangea import article_id, is_excluded_host, sitemap_role
from newsarchive.discovery.services import select_services
from newsarchive.discovery.sitemaps import NotASitemap, SitemapEntry, iter_sitemap
from newsarchive.extensions.accounting import not_requested
from newsarchive.extensions.errorlog import report_error

from .base import ArchiveSpiderMixin, ArticleTarget

#: Child sitemaps always read; archive slices only with ``since``.
DEFAULT_SITEMAP_ROLES = ("news", "latest")
#: Where Pangea services publish their main RSS feed (``<link rel=alternate>`` on every page).
PANGEA_FEED_PATH = "/api/"
#: The links of a section page; those that are articles (``discovery.pangea.article_id``) are
#: followed, navigation, other sections, static pages and "load more" (``?p=1``) are not.
SECTION_LINKS = LinkExtractor()


#: What ``-a`` takes (a misspelt name is refused, not kept as an attribute nobody reads).
ARGUMENTS = ("sites", "since", "feeds", "sections", "full", "requisites", "recheck")


class RferlSpider(ArchiveSpiderMixin, scrapy.Spider):
    """Archive RFE/RL articles from every (or the chosen) language-service site."""

    name = "rferl"

    def __init__(
        self,
        sites: str | None = None,
        since: str | None = None,
        feeds: str = "1",
        sections: str = "0",
        full: str = "0",
        requisites: str = "0",
        **kwargs: Any,
    ) -> None:
        check_known(self.name, kwargs, ARGUMENTS)
        super().__init__(**kwargs)
        #: Read by the requisites middlewares (also ``NEWSARCHIVE_REQUISITES_ENABLED``).
        self.requisites = parse_flag("requisites", requisites, default=False)
        self.services = select_services(sites)
        self.since: date | None = parse_since("since", since)
        self.use_feeds = parse_flag("feeds", feeds, default=True)
        self.hosts = {s.host: s for s in self.services if not is_excluded_host(s.host)}
        self.allowed_domains = list(self.hosts)
        self.full = parse_flag("full", full, default=False)
        self.use_sections = parse_flag("sections", sections, default=False)

    # -- discovery -------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        # First request of each host, top priority: the robots middleware builds the host's
        # rules from this response instead of fetching robots.txt a second time.
        for host in self.hosts:
            yield scrapy.Request(
                f"https://{host}/robots.txt",
                callback=self.parse_robots,
                errback=self.discovery_failed,
                meta={"handle_httpstatus_list": [404, 410], metakeys.ROLE: "robots"},
                priority=100,
            )

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        host = urlsplit(response.url).hostname or ""
        sitemaps: list[str] = []
        robots = None
        if response.status == 200 and isinstance(response, TextResponse):
            robots = Protego.parse(response.text)
            for url in robots.sitemaps:
                if urlsplit(url).hostname == host:
                    sitemaps.append(url)
                else:
                    self.crawler.stats.inc_value("newsarchive/discovery/offsite_sitemap")
                    not_requested(self.crawler, url, "offsite_sitemap", response.url)
        if not sitemaps:
            sitemaps = [f"https://{host}/sitemap.xml"]
            self.logger.info("No Sitemap line in %s; trying %s", response.url, sitemaps[0])
        for url in sitemaps:
            yield self._sitemap_request(url, role="index")
        if self.use_feeds:
            feed = urljoin(response.url, PANGEA_FEED_PATH)
            # The user agent the robots middleware checks: it would refuse the same feed.
            settings = self.settings
            agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT", "*")
            if robots is not None and not robots.can_fetch(feed, agent):
                self.crawler.stats.inc_value("newsarchive/discovery/feed_disallowed")
                not_requested(self.crawler, feed, "robots_disallowed", response.url)
                self.logger.info("Not reading feed %s: disallowed by robots.txt", feed)
            else:
                yield scrapy.Request(
                    feed,
                    callback=self.parse_feed,
                    errback=self.discovery_failed,
                    # The feed path is Pangea's; a host without one (pressroom) is not a failure.
                    meta={metakeys.ROLE: "feed", "handle_httpstatus_list": [404, 410]},
                    priority=50,
                )

    def _sitemap_request(self, url: str, role: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_sitemap,
            errback=self.discovery_failed,
            meta={metakeys.ROLE: f"sitemap:{role}"},
            priority={"index": 90, "news": 90, "latest": 80}.get(role, 70),
        )

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            entries = list(iter_sitemap(body))
        except NotASitemap as exc:
            stats.inc_value("newsarchive/discovery/not_a_sitemap")
            self.logger.warning("Ignoring %s: %s", response.url, exc)
            report_error(self.crawler, response.request, "discovery", "not_a_sitemap", str(exc))
            return
        stats.inc_value("newsarchive/discovery/sitemaps")
        lists_sections = response.meta.get(metakeys.ROLE) == "sitemap:sections"
        for entry in entries:
            if entry.loc.endswith((".xml", ".xml.gz")) and "/sitemap" in entry.loc:
                yield from self._follow_child_sitemap(entry)
            elif lists_sections:
                yield from self._section_request(entry)
            else:
                yield from self.article_request(entry, response.url)

    def _follow_child_sitemap(self, entry: SitemapEntry) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        if urlsplit(entry.loc).hostname not in self.hosts:
            stats.inc_value("newsarchive/discovery/offsite_sitemap")
            not_requested(self.crawler, entry.loc, "offsite_sitemap")
            return
        role = sitemap_role(entry.loc)
        wanted = (
            role in DEFAULT_SITEMAP_ROLES
            or (role == "sections" and self.use_sections)
            or (
                role == "archive"
                and self.since is not None
                and (entry.lastmod is None or entry.lastmod.date() >= self.since)
            )
        )
        if not wanted:
            stats.inc_value(f"newsarchive/discovery/sitemap_skipped/{role}")
            not_requested(self.crawler, entry.loc, "sitemap_skipped")
            return
        yield self._sitemap_request(entry.loc, role)

    def _section_request(self, entry: SitemapEntry) -> Iterator[scrapy.Request]:
        """A section page (``/z/<id>``, the home page) listed in ``_sections``: read for links."""
        if urlsplit(entry.loc).hostname not in self.hosts:
            self.crawler.stats.inc_value("newsarchive/discovery/offsite_url")
            not_requested(self.crawler, entry.loc, "offsite_url")
            return
        yield scrapy.Request(
            entry.loc,
            callback=self.parse_section,
            errback=self.discovery_failed,
            meta={metakeys.ROLE: "section"},
            priority=60,
        )

    def parse_section(self, response: Response) -> Iterator[scrapy.Request]:
        """The article links of a section page; they carry no date, so ``since`` keeps them."""
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("newsarchive/discovery/not_a_section")
            self.logger.warning("Ignoring section %s: not an HTML page", response.url)
            return
        self.crawler.stats.inc_value("newsarchive/discovery/sections")
        for link in SECTION_LINKS.extract_links(response):
            url = urldefrag(link.url)[0]
            if article_id(url) is not None:
                yield from self.article_request(SitemapEntry(loc=url), response.url)

    def article_target(self, url: str, **context: Any) -> ArticleTarget | str:
        """A Pangea article on one of the chosen service hosts, keyed by its id."""
        host = urlsplit(url).hostname or ""
        if host not in self.hosts:
            self.logger.debug("Off the service hosts, not fetched: %s", url)
            return "offsite_url"
        aid = article_id(url)
        if aid is None:
            return "not_article_url"
        return ArticleTarget(
            key=aid,
            host=host,
            since=self.since,
            callback=self.parse_article,
            meta={metakeys.ARTICLE_ID: aid},
        )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status in (404, 410):
            self.crawler.stats.inc_value("newsarchive/discovery/not_found")
            self.logger.info("No feed at %s (HTTP %s)", response.url, response.status)
            return
        try:
            entries = list(iter_feed(response.body))
        except NotAFeed as exc:
            self.crawler.stats.inc_value("newsarchive/discovery/not_a_feed")
            self.logger.warning("Ignoring feed %s: %s", response.url, exc)
            return
        for item in entries:
            yield from self.article_request(
                SitemapEntry(loc=urljoin(response.url, item.link), lastmod=item.published),
                response.url,
            )

    # -- articles (parse_article and the failure callbacks: ArchiveSpiderMixin) --------------
    def article_id_for(self, response: Response) -> str | None:
        return article_id(response.url) or response.meta.get(metakeys.ARTICLE_ID)
