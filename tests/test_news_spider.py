"""The ``news`` spider: site configs, feed shapes, and real crawls of ``tests/news_site``.

``tests/news_site`` holds two made-up hosts (README.md there): a WordPress-like paper with RSS,
Atom, a robots.txt sitemap index and a Google News sitemap, and a newsletter with only a JSON
Feed and links to follow. The feed parsers are also run on the real feeds in the shared corpus.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from newsarchive.discovery.feeds import NotAFeed, iter_feed
from newsarchive.discovery.sites import SiteConfigError, load_sites_file, make_site
from newsarchive.items import ArticleItem
from newsarchive.spiders.news import NewsSpider
from tests.conftest import REPO
from tests.crawl_helpers import run_crawl

SITE = REPO / "tests" / "news_site"
GAZETTE = "www.valley-gazette.test"
HARBOUR = "news.harbourwatch.test"


def expected() -> dict[str, dict]:
    data = json.loads((SITE / "EXPECTED.json").read_text("utf-8"))
    return {a["url"]: a for a in data["articles"]}


def gets(result) -> list[tuple[str, str]]:
    return [(r["host"], r["path"]) for r in result.requests if r["method"] == "GET"]


# -- site configuration ----------------------------------------------------------------------------


def test_site_from_arguments():
    site = make_site({"url": "example.org", "depth": "2", "allow": "/news/", "deny": "/tag/",
                      "since": "2025-01-01", "feeds": "/a.xml, /b.xml"})  # fmt: skip
    assert site.home == "https://example.org/"
    assert site.hosts == {"example.org", "www.example.org"}
    assert (site.depth, site.since, site.feeds) == (2, date(2025, 1, 1), ("/a.xml", "/b.xml"))
    assert site.wants("https://www.example.org/news/story-1")
    assert not site.wants("https://example.org/tag/news/x")  # denied
    assert not site.wants("https://example.org/about")  # not allowed
    assert not site.wants("https://example.org/news/photo.jpg")  # media
    assert not site.wants("https://other.org/news/story-1")  # off the site


def test_sites_file_defaults_and_errors(tmp_path):
    good = tmp_path / "sites.toml"
    good.write_text(
        '[defaults]\nsince = "2025-01-01"\ndepth = 1\n\n'
        '[[site]]\nurl = "https://a.example"\n\n'
        '[[site]]\nurl = "https://b.example"\ndepth = 0\ndeny = ["/video/", "/live/"]\n',
        "utf-8",
    )
    a, b = load_sites_file(good)
    assert (a.host, a.depth, a.since) == ("a.example", 1, date(2025, 1, 1))
    assert (b.depth, b.deny) == (0, ("/video/", "/live/"))

    cases = {
        '[[site]]\nurl = "https://a.example"\ndepht = 1\n': "unknown key(s) depht",
        '[[site]]\nurl = "https://a.example"\nallow = "("\n': "allow '(' is not a regex",
        '[[site]]\nurl = "https://a.example"\nsince = "May 1"\n': "since: expected a date",
        '[[site]]\nurl = "a.example"\n[[site]]\nurl = "https://a.example/x"\n': "listed twice",
        "[defaults]\ndepth = 1\n": "no [[site]] entries",
        "[[site]\n": "not valid TOML",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.toml"
        bad.write_text(text, "utf-8")
        with pytest.raises(SiteConfigError, match=re.escape(message)):
            load_sites_file(bad)


def test_spider_wants_exactly_one_way_to_name_sites(tmp_path):
    with pytest.raises(ValueError, match="sites_file"):
        NewsSpider()
    with pytest.raises(ValueError, match="one of"):
        NewsSpider(site="https://a.example", sites_file=str(tmp_path / "s.toml"))
    spider = NewsSpider(site="https://www.a.example", depth="1")
    assert spider.allowed_domains == ["a.example", "www.a.example"]


# -- feed shapes (the real feeds of the shared corpus, read in place) -----------------------------


def test_json_feed(corpora):
    entries = list(iter_feed((corpora / "feeds-sitemaps/trafilatura/feed.json").read_bytes()))
    assert len(entries) == 25
    assert entries[0].link.startswith("https://www.npr.org/2021/10/29/1050315385/")
    assert entries[0].published == datetime(2021, 10, 29, 14, 26, tzinfo=UTC)
    with pytest.raises(NotAFeed, match=r"jsonfeed\.org"):
        list(iter_feed(b'{"items": []}'))


def test_atom_entry_link_is_the_alternate_one(corpora):
    body = (SITE / GAZETTE / "feed/atom/index.html").read_bytes()
    (entry,) = iter_feed(body)  # rel=replies links before and after rel=alternate
    assert entry.link == f"https://{GAZETTE}/2025/05/22/school-bus-routes/"
    heise = list(iter_feed((corpora / "feeds-sitemaps/rss-parser/heise.atom").read_bytes()))
    assert len(heise) == 15
    assert all(e.link.endswith(".html?wt_mc=rss.developer.beitrag.atom") for e in heise)


def test_legacy_encoded_feed_without_declaration(corpora):
    body = (corpora / "feeds-sitemaps/rss-parser/uolNoticias.rss").read_bytes()
    entries = list(iter_feed(body))
    assert len(entries) == 15
    assert "simulações" in entries[0].title  # ISO-8859-1 bytes, decoded right


def test_rss_item_with_only_a_permalink_guid():
    body = (
        b"<rss version='2.0'><channel><item><title>A</title>"
        b"<guid>https://example.org/a</guid></item><item><title>B</title>"
        b"<guid isPermaLink='false'>tag:example.org,2025:b</guid></item></channel></rss>"
    )
    assert [e.link for e in iter_feed(body)] == ["https://example.org/a"]


# -- real crawls through the web double -----------------------------------------------------------


@pytest.mark.slow
def test_wordpress_like_site(webdouble_factory, tmp_path):
    double = webdouble_factory(SITE)
    result = run_crawl(double, tmp_path, "-a", f"site=https://{GAZETTE}", spider="news")
    assert result.returncode == 0, result.stdout
    want = {u: a for u, a in expected().items() if GAZETTE in u}
    got = {item["url"]: item for item in result.items}
    assert set(got) == set(want)  # 2023 archive slice included: no since
    item_fields = {f.name for f in fields(ArticleItem)}
    for url, item in got.items():
        truth = want[url]
        assert set(item) == item_fields  # the rferl item schema
        for key in ("title", "authors", "published", "section", "accessible_for_free"):
            assert item[key] == truth[key], (url, key)
        paragraphs = item["text"].split("\n\n")
        assert paragraphs[0] == truth["first_paragraph"]
        assert paragraphs[-1] == truth["last_paragraph"]
        if truth["caption"]:
            assert truth["caption"] not in item["text"]
        assert "Great news, finally!" not in item["text"]  # comments
        assert item["warc"]["filename"].endswith(".warc.gz")
        assert item["url"] == item["canonical_url"]
    flood = got[f"https://{GAZETTE}/2025/05/20/flood-barrier-vote/"]
    assert flood["publication"] == "Valley Gazette"  # Google News sitemap hint
    library = got[f"https://{GAZETTE}/2025/05/23/library-night/"]  # only in the RSS feed
    assert library["discovered_from"] == f"https://{GAZETTE}/feed/"
    requested = gets(result)
    for path in ("/robots.txt", "/", "/sitemap_index.xml", "/news-sitemap.xml", "/feed/",
                 "/feed/atom/", "/post-sitemap2.xml"):  # fmt: skip
        assert (GAZETTE, path) in requested, path
    articles = [p for h, p in requested if p.startswith("/20")]
    assert len(articles) == len(set(articles)) == 5  # listed up to 3 times, fetched once
    assert not any("utm_" in p for _, p in requested)
    assert {h for h, _ in requested} == {GAZETTE}  # the partner feed is off the site
    stats = result.stats
    assert stats["newsarchive/accounting/unaccounted"] == 0
    assert stats["newsarchive/extract/not_article/no_article_body"] == 1  # /about/
    assert stats["newsarchive/discovery/feeds_advertised"] == 2
    # The partner feed is listed on the home page, so discovered, and not requested: off-site.
    assert stats["newsarchive/accounting/not_requested/offsite_url"] == 1


@pytest.mark.slow
def test_sites_file_json_feed_link_following_and_since(webdouble_factory, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(
        f'[[site]]\nurl = "https://{GAZETTE}"\nsince = "2025-01-01"\n\n'
        f'[[site]]\nurl = "https://{HARBOUR}"\ndepth = 2\ndeny = ["/about"]\n',
        "utf-8",
    )
    double = webdouble_factory(SITE)
    result = run_crawl(double, tmp_path / "out", "-a", f"sites_file={sites}", spider="news")
    assert result.returncode == 0, result.stdout
    want = expected()
    got = {item["url"]: item for item in result.items}
    harbour = {u for u in got if HARBOUR in u}
    assert harbour == {
        f"https://{HARBOUR}/stories/{slug}.html"
        for slug in (
            "ferry-timetable-changes",
            "crane-delivery",
            "lifeboat-volunteers",
            "fish-market-hours",
        )
    }
    for url in harbour:
        for key in ("title", "authors", "published"):
            assert got[url][key] == want[url][key], (url, key)
    lifeboat = got[f"https://{HARBOUR}/stories/lifeboat-volunteers.html"]
    assert lifeboat["discovered_from"] == f"https://{HARBOUR}/feed.json"  # only in the feed
    fish = got[f"https://{HARBOUR}/stories/fish-market-hours.html"]
    assert fish["discovered_from"] == f"https://{HARBOUR}/sections/port.html"  # two hops
    requested = gets(result)
    assert (HARBOUR, "/stories/pier-repairs.html") not in requested  # three hops: too deep
    assert (HARBOUR, "/about.html") not in requested  # denied
    assert not any(p.startswith("/search") for _, p in requested)  # robots.txt
    assert (HARBOUR, "/feed.json") in requested and (HARBOUR, "/sitemap.xml") in requested
    gazette = {u for u in got if GAZETTE in u}
    assert len(gazette) == 4
    assert (GAZETTE, "/post-sitemap2.xml") not in requested  # slice older than since
    assert (GAZETTE, "/2023/01/10/winter-salt-stock/") not in requested
    stats = result.stats
    assert stats["newsarchive/discovery/sitemap_skipped/before_since"] == 2  # + page-sitemap
    assert stats["newsarchive/accounting/unaccounted"] == 0
    # Off-site: the gazette's partner feed and a link to another paper from harbour's home page.
    assert stats["newsarchive/accounting/not_requested/offsite_url"] == 2
    assert stats.get("newsarchive/errors/urls", 0) == 0  # guessed feed paths 404 quietly
    lines = Path(result.folder / "items.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 8
