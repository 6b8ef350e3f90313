"""robots.txt is fetched once per host and run: the spider's own request feeds the robots rules.

Real crawls through the web double (``rferl`` on the sample site, ``news`` on
``tests/news_site``): the double's request log shows one GET of each host's ``/robots.txt``,
the WARC one response record for it and no revisit, and the rules are still obeyed. Smaller
crawls, with robots.txt files changed in a copy of the site, check a 404 robots.txt, an
unreadable one and a redirected one; a spider that never asks for robots.txt gets Scrapy's own
fetch.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import scrapy
from protego import Protego
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from newsarchive.addon import NewsarchiveAddon
from newsarchive.downloadermiddlewares.robotstxt import (
    SharedRobotsTxtMiddleware,
    check_scrapy_internals,
)
from tests.conftest import REPO
from tests.crawl_helpers import SAMPLE_HOSTS, CrawlResult, run_crawl

NEWS_SITE = REPO / "tests" / "news_site"
GAZETTE = "www.valley-gazette.test"
HARBOUR = "news.harbourwatch.test"
SCRAPY_ROBOTS = "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"
OURS = "newsarchive.downloadermiddlewares.robotstxt.SharedRobotsTxtMiddleware"


def robots_gets(result: CrawlResult) -> Counter[str]:
    """GETs of ``/robots.txt`` per host, from the double's request log."""
    return Counter(
        r["host"] for r in result.requests if r["method"] == "GET" and r["path"] == "/robots.txt"
    )


def robots_records(result: CrawlResult) -> Counter[tuple[str, str]]:
    """``(WARC-Type, host)`` of every WARC record of a ``/robots.txt`` URL."""
    found: Counter[tuple[str, str]] = Counter()
    for path in result.warcs:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if uri.endswith("/robots.txt"):
                    host = uri.split("/")[2]
                    found[(record.rec_type, host)] += 1
    return found


def assert_once(result: CrawlResult, hosts: list[str]) -> None:
    """One GET, one request and one response record per host; no revisit."""
    assert robots_gets(result) == Counter(hosts), robots_gets(result)
    records = robots_records(result)
    assert {k for k in records if k[0] == "revisit"} == set(), records
    for host in hosts:
        assert records[("response", host)] == 1, (host, records)
        assert records[("request", host)] == 1, (host, records)
    stats = result.stats
    assert stats["robotstxt/request_count"] == len(hosts)
    assert stats["robotstxt/response_count"] == len(hosts)
    # The spider's robots.txt request is the one accounted (role robots), not a hidden fetch.
    assert stats["newsarchive/accounting/not_article/robots"] == len(hosts)
    assert stats["newsarchive/accounting/unaccounted"] == 0


def copy_site(source: Path, tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(source, site, symlinks=True)
    return site


# -- the component ---------------------------------------------------------------------------------


def test_scrapy_still_has_the_hook_this_middleware_overrides():
    """Fails loudly when a Scrapy upgrade moves what SharedRobotsTxtMiddleware relies on."""
    check_scrapy_internals()


def test_the_guard_notices_a_changed_hook(monkeypatch):
    def robot_parser(self, request):  # no longer a coroutine: Scrapy changed
        return None

    monkeypatch.setattr(RobotsTxtMiddleware, "robot_parser", robot_parser)
    with pytest.raises(RuntimeError, match="update newsarchive/downloadermiddlewares/robotstxt"):
        check_scrapy_internals()
    with pytest.raises(RuntimeError):  # and the middleware refuses to start
        SharedRobotsTxtMiddleware.from_crawler(get_crawler(settings_dict={"ROBOTSTXT_OBEY": True}))


def test_disabled_with_robotstxt_obey_false():
    with pytest.raises(NotConfigured):
        SharedRobotsTxtMiddleware.from_crawler(get_crawler(settings_dict={"ROBOTSTXT_OBEY": False}))
    assert isinstance(
        SharedRobotsTxtMiddleware.from_crawler(get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})),
        SharedRobotsTxtMiddleware,
    )


def test_addon_puts_it_in_place_of_scrapys():
    settings = Settings()
    NewsarchiveAddon().update_settings(settings)
    middlewares = settings["DOWNLOADER_MIDDLEWARES"]
    assert middlewares[SCRAPY_ROBOTS] is None
    assert middlewares[OURS] == 100  # where Scrapy's sits in DOWNLOADER_MIDDLEWARES_BASE


# -- real crawls -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_rferl_fetches_each_robots_txt_once(sample_site, webdouble_factory, tmp_path):
    double = webdouble_factory(sample_site)
    result = run_crawl(double, tmp_path, "-a", f"sites={SAMPLE_HOSTS}")
    assert result.returncode == 0, result.stdout[-3000:]
    hosts = SAMPLE_HOSTS.split(",")
    assert_once(result, hosts)
    # The rules still apply: the Pangea feed (/api/) is disallowed, reported by the spider and
    # never requested; everything requested is allowed.
    assert result.stats["newsarchive/accounting/not_requested/robots_disallowed"] == 3
    rules = {h: Protego.parse((sample_site / h / "robots.txt").read_text("utf-8")) for h in hosts}
    for r in result.requests:
        assert rules[r["host"]].can_fetch(f"https://{r['host']}{r['path']}", "newsarchive"), r
    assert sum(r["path"].startswith("/api/") for r in result.requests) == 1  # pressroom's only
    assert result.items


@pytest.mark.slow
def test_news_fetches_each_robots_txt_once(webdouble_factory, tmp_path):
    """Two sites; the home page and feeds wait for the spider's robots.txt, then obey it."""
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[[site]]\nurl = "https://{GAZETTE}"\n\n[[site]]\nurl = "https://{HARBOUR}"\ndepth = 2\n',
        "utf-8",
    )
    double = webdouble_factory(NEWS_SITE)
    result = run_crawl(double, tmp_path / "out", "-a", f"sites_file={sites}", spider="news")
    assert result.returncode == 0, result.stdout[-3000:]
    assert_once(result, [GAZETTE, HARBOUR])
    # harbourwatch's home page links /search, which its robots.txt disallows.
    assert result.stats["robotstxt/forbidden"] >= 1
    assert result.stats["newsarchive/accounting/skipped/robots_txt"] >= 1
    assert not any(r["path"].startswith("/search") for r in result.requests)
    # Nothing of a host was requested before its robots.txt.
    for host in (GAZETTE, HARBOUR):
        paths = [r["path"] for r in result.requests if r["host"] == host and r["method"] == "GET"]
        assert paths[0] == "/robots.txt", paths


@pytest.mark.slow
def test_missing_robots_txt_means_no_rules_and_fallback_discovery(webdouble_factory, tmp_path):
    """404 robots.txt: fetched once, no rules (a formerly disallowed path is fetched), and the
    spider falls back to /sitemap.xml; the run does not fail."""
    site = copy_site(NEWS_SITE, tmp_path)
    (site / HARBOUR / "robots.txt").unlink()
    double = webdouble_factory(site)
    args = ("-a", f"site=https://{HARBOUR}", "-a", "depth=2")
    result = run_crawl(double, tmp_path / "out", *args, spider="news")
    assert result.returncode == 0, result.stdout[-3000:]
    assert robots_gets(result) == Counter([HARBOUR])
    assert result.stats["robotstxt/response_status_count/404"] == 1
    assert "robotstxt/forbidden" not in result.stats
    gets = [r["path"] for r in result.requests if r["method"] == "GET"]
    assert "/sitemap.xml" in gets
    assert any(p.startswith("/search") for p in gets)  # no rules any more
    assert robots_records(result)[("response", HARBOUR)] == 1


@pytest.mark.slow
def test_unreadable_robots_txt_fails_the_run_once(webdouble_factory, tmp_path):
    """A robots.txt that answers 500 (retried, then given up) still fails the run, and the
    pages waiting for it go on as Scrapy lets them (an unreadable robots.txt has no rules)."""
    site = copy_site(NEWS_SITE, tmp_path)
    (site / HARBOUR / "robots.txt.headers.json").write_text('{"status": 500}', "utf-8")
    double = webdouble_factory(site)
    result = run_crawl(
        double,
        tmp_path / "out",
        "-a",
        f"site=https://{HARBOUR}",
        "-s",
        "NEWSARCHIVE_BACKOFF_BASE=0",
        "-s",
        "RETRY_TIMES=1",
        spider="news",
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert result.stats["newsarchive/run/failure/robots_unreadable"] == 1
    assert robots_gets(result) == Counter({HARBOUR: 2})  # the attempt and its one retry
    assert result.stats["robotstxt/request_count"] == 1
    assert result.stats["robotstxt/response_status_count/500"] == 1
    gets = [r["path"] for r in result.requests if r["method"] == "GET"]
    assert "/" in gets  # the home page was not held back for ever


@pytest.mark.slow
def test_redirected_robots_txt_feeds_the_rules(webdouble_factory, tmp_path):
    """robots.txt that redirects (same host) is followed once; its rules apply."""
    site = copy_site(NEWS_SITE, tmp_path)
    host = site / HARBOUR
    (host / "robots-moved.txt").write_bytes((host / "robots.txt").read_bytes())
    (host / "robots.txt").unlink()
    moved = {"status": 301, "headers": {"Location": f"https://{HARBOUR}/robots-moved.txt"}}
    (host / "robots.txt.headers.json").write_text(json.dumps(moved), "utf-8")
    double = webdouble_factory(site)
    args = ("-a", f"site=https://{HARBOUR}", "-a", "depth=2")
    result = run_crawl(double, tmp_path / "out", *args, spider="news")
    assert result.returncode == 0, result.stdout[-3000:]
    gets = Counter(r["path"] for r in result.requests if r["method"] == "GET")
    assert gets["/robots.txt"] == 1 and gets["/robots-moved.txt"] == 1
    assert result.stats["robotstxt/forbidden"] >= 1
    assert not any(p.startswith("/search") for p in gets)


class PageFirstSpider(scrapy.Spider):
    """Asks for pages and no robots.txt (run with ``-s SPIDER_MODULES=tests.test_robots_once``)."""

    name = "pagefirst"
    allowed_domains = [HARBOUR]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(f"https://{HARBOUR}/search?q=x", callback=self.parse)
        yield scrapy.Request(f"https://{HARBOUR}/", callback=self.parse)

    def parse(self, response):
        return None


@pytest.mark.slow
def test_without_a_spider_robots_request_the_middleware_fetches_it(webdouble_factory, tmp_path):
    """A spider that never asks for robots.txt: fetched once by the middleware, as Scrapy does,
    archived, and obeyed."""
    double = webdouble_factory(NEWS_SITE)
    result = run_crawl(
        double, tmp_path, "-s", "SPIDER_MODULES=tests.test_robots_once", spider="pagefirst"
    )
    gets = [r["path"] for r in result.requests if r["method"] == "GET"]
    assert gets == ["/robots.txt", "/"], result.log[-3000:]
    assert result.stats["robotstxt/forbidden"] == 1
    assert robots_records(result)[("response", HARBOUR)] == 1
