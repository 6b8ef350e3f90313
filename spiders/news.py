"""The ``news`` spider: any news site, discovered from its robots.txt sitemaps, feeds and links.

``scrapy crawl news -a site=https://example.org`` reads, per site: robots.txt → its ``Sitemap:``
lines (or ``/sitemap.xml``) → sitemap indexes → urlsets and Google News sitemaps; the home page →
its ``<link rel="alternate">`` RSS/Atom/JSON feeds (else the usual feed paths: ``/feed``,
``/rss.xml``, ``/atom.xml``, ``/feed.json`` ...); and, with ``-a depth=N``, links followed from
the home page up to N hops (sitemap and feed entries count as one hop). ``-a allow=REGEX`` and
``-a deny=REGEX`` filter article URLs, ``-a since=YYYY-MM-DD`` skips older sitemap slices and
entries, ``-a feeds=URL,URL`` adds feeds. ``-a sites_file=sites.toml`` lists many sites, each
with its own settings (``newsarchive/discovery/sites.py``).

Scheduled runs are incremental as ``rferl``'s are: every listed URL has an article key
(``newsarchive/discovery/urlkey.py``: the Pangea id, else the normalised URL's); a known one is
fetched again only when its listing's lastmod is newer than our last fetch or it is inside the
refresh window, and then conditionally. Pages that never were articles (section pages) are
re-read whenever their links are to be followed, so new articles behind them are found.
``-a full=1`` fetches everything in full. ``-a requisites=1`` also archives each article's
stylesheets, fonts, images and icons (asset hosts: ``NEWSARCHIVE_REQUISITES_HOSTS``).

Everything else is shared with ``rferl``: the same pipelines decide what is an article, the same
WARC/JSONL output, the same item schema.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from protego import Protego
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.gz import gunzip

from newsarchive import metakeys
from newsarchive.arguments import ArgumentError, check_known, parse_flag
from newsarchive.discovery.feeds import NotAFeed, iter_feed
from newsarchive.discovery.sitemaps import NotASitemap, SitemapEntry, iter_sitemap
from newsarchive.discovery.sites import SiteConfig, load_sites_file, make_site, unique_sites
from newsarchive.discovery.urlkey import article_key
from newsarchive.extensions.accounting import not_requested
from newsarchive.extensions.errorlog import report_error

from .base import ArchiveSpiderMixin, ArticleTarget

#: Where sites usually publish feeds, tried when the home page advertises none.
COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml",
                     "/feed.json")  # fmt: skip
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "text/xml",
    }
)
#: Child sitemaps read per site and run, newest first (a site's full archive is opt-in via since).
MAX_CHILD_SITEMAPS = 50
NOT_FOUND = [404, 410]


#: What ``-a`` takes (a misspelt name is refused, not kept as an attribute nobody reads).
ARGUMENTS = ("site", "sites_file", "since", "depth", "allow", "deny", "feeds", "sitemaps", "full",
             "requisites", "recheck")  # fmt: skip


class NewsSpider(ArchiveSpiderMixin, scrapy.Spider):
    """Archive the articles of any news site (or of every site in a sites file)."""

    name = "news"

    def __init__(
        self,
        site: str | None = None,
        sites_file: str | None = None,
        since: str | None = None,
        depth: str | int = 0,
        allow: str | None = None,
        deny: str | None = None,
        feeds: str | None = None,
        sitemaps: str = "1",
        full: str = "0",
        requisites: str = "0",
        **kwargs: Any,
    ) -> None:
        check_known(self.name, kwargs, ARGUMENTS)
        super().__init__(**kwargs)
        #: Read by the requisites middlewares (also ``NEWSARCHIVE_REQUISITES_ENABLED``).
        self.requisites = parse_flag("requisites", requisites, default=False)
        if bool(site) == bool(sites_file):
            raise ArgumentError(
                "give one of -a site=https://example.org or -a sites_file=sites.toml"
            )
        if sites_file:
            self.sites = load_sites_file(sites_file)
        else:
            values = {"url": site, "since": since, "depth": depth, "allow": allow, "deny": deny,
                      "feeds": feeds, "sitemaps": sitemaps}  # fmt: skip
            given = {k: v for k, v in values.items() if v}
            self.sites = unique_sites([make_site(given, where="-a arguments")])
        self.by_host = {host: s for s in self.sites for host in s.hosts}
        self.allowed_domains = sorted(self.by_host)
        self._child_sitemaps: dict[str, int] = {}
        self.full = parse_flag("full", full, default=False)

    # -- discovery -------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for site in self.sites:
            # robots.txt first, top priority: the robots middleware builds the host's rules from
            # this response (home page and feeds wait for them) instead of fetching it again.
            if site.sitemaps:
                yield self._request(site.origin("/robots.txt"), self.parse_robots, site, "robots",
                                    priority=100, statuses=NOT_FOUND)  # fmt: skip
            yield self._request(site.home, self.parse_home, site, "home", priority=95)
            for feed in site.feeds:
                yield self._request(urljoin(site.home, feed), self.parse_feed, site, "feed",
                                    priority=50)  # fmt: skip

    def _request(
        self,
        url: str,
        callback,
        site: SiteConfig,
        role: str,
        *,
        priority: int = 0,
        statuses: list[int] | None = None,
        **meta: Any,
    ) -> scrapy.Request:
        meta = {metakeys.SITE: site.host, metakeys.ROLE: role, **meta}
        if statuses:
            meta["handle_httpstatus_list"] = statuses
        return scrapy.Request(url, callback=callback, errback=self.discovery_failed, meta=meta,
                              priority=priority)  # fmt: skip

    def site_of(self, response: Response) -> SiteConfig:
        return self.by_host.get(response.meta.get(metakeys.SITE, "")) or self.sites[0]

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        site = self.site_of(response)
        sitemaps: list[str] = []
        if response.status == 200 and isinstance(response, TextResponse):
            for url in Protego.parse(response.text).sitemaps:
                if site.on_site(url):
                    sitemaps.append(url)
                else:
                    self.crawler.stats.inc_value("newsarchive/discovery/offsite_sitemap")
                    not_requested(self.crawler, url, "offsite_sitemap")
        role = "sitemap:index"
        if not sitemaps:
            sitemaps, role = [site.origin("/sitemap.xml")], "sitemap:guess"
            self.logger.info("No Sitemap line in %s; trying %s", response.url, sitemaps[0])
        for url in sitemaps:
            yield self._sitemap_request(url, site, role)

    def _sitemap_request(self, url: str, site: SiteConfig, role: str) -> scrapy.Request:
        statuses = NOT_FOUND if role == "sitemap:guess" else None
        return self._request(url, self.parse_sitemap, site, role, priority=90, statuses=statuses)

    def is_essential(self, role: str) -> bool:
        """robots.txt and the sitemaps it lists; guessed paths and feeds may fail quietly."""
        return role in ("robots", "sitemap:index", "sitemap:child")

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        site = self.site_of(response)
        if response.status in NOT_FOUND:
            stats.inc_value("newsarchive/discovery/not_found")
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            entries = list(iter_sitemap(body))
        except NotASitemap as exc:
            stats.inc_value("newsarchive/discovery/not_a_sitemap")
            self.logger.warning("Ignoring %s: %s", response.url, exc)
            if response.meta.get(metakeys.ROLE) != "sitemap:guess":
                report_error(self.crawler, response.request, "discovery", "not_a_sitemap", str(exc))
            return
        stats.inc_value("newsarchive/discovery/sitemaps")
        if b"<sitemapindex" in body[:4096].lower():
            yield from self._children(entries, site)
            return
        for entry in entries:
            yield from self.article_request(entry, response.url, site=site)

    def _children(self, entries: list[SitemapEntry], site: SiteConfig) -> Iterator[scrapy.Request]:
        """Child sitemaps: newest first (undated ones, usually news/latest, before all), within
        ``since``, at most :data:`MAX_CHILD_SITEMAPS` per site."""
        stats = self.crawler.stats
        ordered = sorted(
            entries,
            key=lambda e: (e.lastmod is not None, -e.lastmod.timestamp() if e.lastmod else 0),
        )
        for entry in ordered:
            if not site.on_site(entry.loc):
                stats.inc_value("newsarchive/discovery/offsite_sitemap")
                not_requested(self.crawler, entry.loc, "offsite_sitemap")
                continue
            if site.since and entry.lastmod and entry.lastmod.date() < site.since:
                stats.inc_value("newsarchive/discovery/sitemap_skipped/before_since")
                not_requested(self.crawler, entry.loc, "sitemap_skipped")
                continue
            count = self._child_sitemaps.get(site.host, 0)
            if count >= MAX_CHILD_SITEMAPS:
                stats.inc_value("newsarchive/discovery/sitemap_skipped/limit")
                not_requested(self.crawler, entry.loc, "sitemap_skipped")
                continue
            self._child_sitemaps[site.host] = count + 1
            yield self._sitemap_request(entry.loc, site, "sitemap:child")

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        site = self.site_of(response)
        if not isinstance(response, TextResponse):
            return
        advertised = []
        for link in response.xpath("//link[@href]"):
            rel = (link.attrib.get("rel") or "").lower().split()
            kind = (link.attrib.get("type") or "").split(";")[0].strip().lower()
            if "alternate" in rel and kind in FEED_TYPES:
                advertised.append(response.urljoin(link.attrib["href"]))
        feeds = []
        for url in dict.fromkeys(advertised):
            if site.on_site(url):
                feeds.append(url)
            else:
                not_requested(self.crawler, url, "offsite_url")
        self.crawler.stats.inc_value("newsarchive/discovery/feeds_advertised", len(feeds))
        for url in feeds:
            yield self._request(url, self.parse_feed, site, "feed", priority=50)
        if not feeds and not site.feeds:
            for path in COMMON_FEED_PATHS:
                yield self._request(site.origin(path), self.parse_feed, site, "feed:guess",
                                    priority=40, statuses=NOT_FOUND)  # fmt: skip
        if site.depth > 0:
            yield from self._follow(response, site, depth=0)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        site = self.site_of(response)
        if response.status in NOT_FOUND:
            stats.inc_value("newsarchive/discovery/not_found")
            return
        encoding = response.encoding if isinstance(response, TextResponse) else None
        try:
            entries = list(iter_feed(response.body, encoding))
        except NotAFeed as exc:
            stats.inc_value("newsarchive/discovery/not_a_feed")
            self.logger.info("Ignoring feed %s: %s", response.url, exc)
            return
        stats.inc_value("newsarchive/discovery/feeds")
        for item in entries:
            entry = SitemapEntry(loc=urljoin(response.url, item.link), lastmod=item.published)
            yield from self.article_request(entry, response.url, site=site)

    # -- articles --------------------------------------------------------------------------------
    def article_target(
        self, url: str, site: SiteConfig, depth: int = 1, **context: Any
    ) -> ArticleTarget | str:
        """A URL of ``site`` its allow/deny patterns want, keyed by its article key, ``depth``
        hops from the site's listings."""
        if not site.on_site(url):
            return "offsite_url"
        if not site.wants(url):
            return "not_article_url"
        return ArticleTarget(
            key=article_key(url),
            host=site.host,
            since=site.since,
            callback=self.parse_page,
            meta={metakeys.SITE: site.host, metakeys.DEPTH: depth},
            follows_links=depth < site.depth,
        )

    def parse_page(self, response: Response) -> Iterator[Any]:
        """An article candidate: to the pipeline (which judges it), and links one hop on."""
        yield from self.parse_article(response)
        site = self.site_of(response)
        depth = int(response.meta.get(metakeys.DEPTH, 1))
        if depth < site.depth and isinstance(response, TextResponse) and response.status == 200:
            yield from self._follow(response, site, depth)

    def _follow(self, response: TextResponse, site: SiteConfig, depth: int) -> Iterator[Any]:
        # No allow_domains: an off-site link is reported (offsite_url) by article_request.
        for link in LinkExtractor(unique=True).extract_links(response):
            entry = SitemapEntry(loc=link.url)
            yield from self.article_request(entry, response.url, site=site, depth=depth + 1)

    def article_id_for(self, response: Response) -> str | None:
        return None  # the extractor finds a Pangea id on Pangea pages; elsewhere there is none
