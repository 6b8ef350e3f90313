"""Unchanged articles have an accounting outcome of their own: ``unchanged``, not ``not_article``.

An article re-checked with a conditional request and answered 304 (``not_modified``), or
fetched in full and found to say what its stored item says (``same_content``), is archived and
its earlier item stands. The end-to-end test crawls one service of the sample site three times
on one output: a first run, a run that re-checks every article conditionally (304s), and a
full re-crawl (200s, same content). The component tests drive the extension's signal handlers
with real requests and responses.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.extension import ExtensionManager
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from newsarchive import metakeys
from newsarchive.exceptions import UnchangedArticle
from newsarchive.extensions.accounting import (
    OUTCOMES,
    PREFIX,
    AccountingExtension,
    not_modified_fate,
)
from newsarchive.extensions.runfolder import accounting_lines
from newsarchive.extensions.statestore import StateStoreExtension
from newsarchive.state import ArticleState, FetchRecord
from newsarchive.state.session import state_for
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import run_crawl

HOST = "www.rferl.org"
ARGS = ("-a", f"sites={HOST}", "-a", "since=2012-01-01")


def _sum_holds(stats: dict) -> None:
    """requested = item + unchanged + error + not_article + skipped + duplicate (+ pending +
    unaccounted), and each outcome is the sum of its reasons."""
    get = lambda key: stats.get(PREFIX + key, 0)  # noqa: E731 - local alias
    assert get("unaccounted") == 0
    assert get("requested") == sum(get(k) for k in (*OUTCOMES, "pending", "unaccounted"))
    for outcome in OUTCOMES:
        reasons = sum(v for k, v in stats.items() if k.startswith(f"{PREFIX}{outcome}/"))
        assert reasons == get(outcome), outcome


# -- end to end ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runs(sample_site, tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(sample_site / HOST, site / HOST)
    output = tmp_path_factory.mktemp("out")
    results = {}
    with WebDouble(site) as double:
        results["first"] = run_crawl(double, output, *ARGS, run_id="u1-first")
        results["recheck"] = run_crawl(
            double, output, *ARGS, "-s", "NEWSARCHIVE_REFRESH_WINDOW=1000000", run_id="u2-304"
        )
        results["full"] = run_crawl(double, output, *ARGS, "-a", "full=1", run_id="u3-full")
    for name, result in results.items():
        assert result.returncode == 0, (name, result.stdout[-2000:], result.log[-3000:])
        _sum_holds(result.stats)
    return results


@pytest.mark.slow
def test_a_304_recheck_is_unchanged_not_modified(runs):
    first, recheck = runs["first"], runs["recheck"]
    stats = recheck.stats
    not_modified = stats["newsarchive/conditional/not_modified"]
    assert recheck.items == [] and len(first.items) >= 5
    # Every article that gave an item was re-checked and answered 304: unchanged. The live
    # blog (a page, not an article, in the first run) was re-checked too: still no article.
    assert stats[PREFIX + "unchanged/not_modified"] == stats[PREFIX + "unchanged"]
    assert stats[PREFIX + "unchanged"] == len(first.items)
    assert first.stats[PREFIX + "not_article/live_blog"] == 1
    assert stats[PREFIX + "not_article/not_modified"] == 1
    assert not_modified == len(first.items) + 1
    # No 304 was counted as an error or as an "article_page" non-article.
    assert stats[PREFIX + "error"] == 0
    assert not any(k.startswith(PREFIX + "not_article/article") for k in stats)
    assert f"0 items + {len(first.items)} unchanged + 0 errors" in recheck.stdout
    assert f"0 items + {len(first.items)} unchanged + 0 errors" in recheck.log  # the log line


@pytest.mark.slow
def test_a_full_recrawl_with_the_same_content_is_unchanged_same_content(runs):
    first, full = runs["first"], runs["full"]
    stats = full.stats
    same = stats["newsarchive/dedupe/unchanged"]
    assert full.items == [] and same == len(first.items)
    assert stats[PREFIX + "unchanged/same_content"] == stats[PREFIX + "unchanged"] == same
    assert PREFIX + "unchanged/not_modified" not in stats  # full=1 sends no conditional request
    assert stats[PREFIX + "not_article"] == first.stats[PREFIX + "not_article"]
    assert not any(k.startswith(PREFIX + "not_article/unchanged") for k in stats)
    # The first run had no unchanged article: its items took that place.
    assert first.stats[PREFIX + "unchanged"] == 0
    assert first.stats[PREFIX + "item"] == len(first.items) == stats[PREFIX + "unchanged"]


# -- the component ------------------------------------------------------------------------------
@pytest.fixture
def extension(tmp_path):
    """The accounting extension beside a real state store (in tmp), both built with
    ``from_crawler`` after the spider, as a crawl builds them."""
    settings = {"NEWSARCHIVE_OUTPUT": str(tmp_path), "NEWSARCHIVE_RUN_ID": "t"}
    crawler = get_crawler(Spider, settings_dict=settings)
    crawler.spider = Spider("t", allowed_domains=["a.example"])
    crawler.stats.open_spider()
    state = StateStoreExtension.from_crawler(crawler)
    ext = AccountingExtension.from_crawler(crawler)
    crawler.extensions = ExtensionManager(state, ext, crawler=crawler)
    yield ext
    assert state.store is not None
    state.store.close()


def _scheduled(ext: AccountingExtension, url: str, **meta) -> Request:
    request = Request(url, meta=meta)
    ext.request_scheduled(request, ext.crawler.spider)
    assert request.meta[metakeys.ORIGIN] == url
    return request


def _close(ext: AccountingExtension) -> dict:
    ext.spider_closed(ext.crawler.spider, "finished")
    stats = ext.crawler.stats.get_stats()
    _sum_holds(stats)
    return stats


def test_outcomes_rank_unchanged_after_item_before_error():
    assert OUTCOMES == (
        "item",
        "unchanged",
        "error",
        "requisite",  # a page requisite archived (below an error: a 404 requisite failed)
        "not_article",
        "skipped",
        "duplicate",
    )


def test_a_304_is_unchanged_for_an_article_with_an_item_only(extension):
    spider = extension.crawler.spider
    store = state_for(extension.crawler)
    assert store is not None
    now = datetime.now(UTC)
    store.record_fetch(
        "1",
        FetchRecord(url="https://a.example/a/1.html", fetched_at=now),
        item_digest="d",
        version=1,
    )
    store.record_fetch("2", FetchRecord(url="https://a.example/live/2.html", fetched_at=now))
    conditional = {metakeys.REVISIT_OF: object()}
    article = _scheduled(
        extension, "https://a.example/a/1.html", newsarchive_article_key="1", **conditional
    )
    extension.response_received(Response(article.url, status=304), article, spider)
    page = _scheduled(
        extension, "https://a.example/live/2.html", newsarchive_article_key="2", **conditional
    )
    extension.response_received(Response(page.url, status=304), page, spider)
    # A 304 we did not ask for is an HttpError: the errback reports it, an error.
    unasked = _scheduled(extension, "https://a.example/a/3.html", newsarchive_article_key="3")
    extension.response_received(Response(unasked.url, status=304), unasked, spider)
    extension.url_outcome(unasked.url, "error", "http_304")
    stats = _close(extension)
    assert stats[PREFIX + "unchanged/not_modified"] == stats[PREFIX + "unchanged"] == 1
    assert stats[PREFIX + "not_article/not_modified"] == stats[PREFIX + "not_article"] == 1
    assert stats[PREFIX + "error/http_304"] == 1
    assert stats[PREFIX + "requested"] == 3


def test_not_modified_fate_follows_the_stored_items():
    assert not_modified_fate(None) == ("not_article", "not_modified")
    assert not_modified_fate(ArticleState("x")) == ("not_article", "not_modified")
    assert not_modified_fate(ArticleState("x", version=2, item_digest="d")) == (
        "unchanged",
        "not_modified",
    )


def test_an_unchanged_article_drop_is_unchanged_same_content(extension):
    spider = extension.crawler.spider
    request = _scheduled(extension, "https://a.example/a/3.html")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    extension.response_received(response, request, spider)  # first: an archived page
    drop = UnchangedArticle("unchanged since version 1: https://a.example/a/3.html")
    extension.item_dropped({"url": request.url}, response, drop, spider)
    stats = _close(extension)
    assert stats[PREFIX + "unchanged/same_content"] == stats[PREFIX + "unchanged"] == 1
    assert stats[PREFIX + "not_article"] == 0
    assert "+ 1 unchanged +" in accounting_lines(stats)[-1]


def test_an_item_outranks_unchanged_which_outranks_error_and_not_article(extension):
    spider = extension.crawler.spider
    drop = UnchangedArticle("already emitted in this run")
    # Unchanged first, then an item for the same origin: the item wins.
    one = _scheduled(extension, "https://a.example/a/4.html")
    page = HtmlResponse(one.url, body=b"<html></html>", request=one)
    extension.item_dropped({"url": one.url}, page, drop, spider)
    extension.item_scraped({"url": one.url}, page, spider)
    # Unchanged, then later news of an error or a non-article: unchanged stands.
    two = _scheduled(extension, "https://a.example/a/5.html")
    page = HtmlResponse(two.url, body=b"<html></html>", request=two)
    extension.item_dropped({"url": two.url}, page, drop, spider)
    extension.url_outcome(two.url, "error", "extraction_timeout")
    extension.response_received(page, two, spider)
    stats = _close(extension)
    assert stats[PREFIX + "item"] == 1 and stats[PREFIX + "unchanged"] == 1
    assert stats[PREFIX + "error"] == 0 and stats[PREFIX + "not_article"] == 0


def test_the_summary_line_states_the_sum_with_unchanged():
    stats = {
        PREFIX + "requested": 10,
        PREFIX + "item": 2,
        PREFIX + "unchanged": 5,
        PREFIX + "error": 1,
        PREFIX + "not_article": 2,
    }
    (line,) = accounting_lines(stats)
    assert " ".join(line.split()) == (
        "accounted URLs: 10 = 2 items + 5 unchanged + 1 errors (errors.jsonl)"
        " + 2 non-articles archived + 0 skipped + 0 duplicates"
    )


def test_docs_state_the_sum_with_unchanged():
    repo = Path(__file__).resolve().parent.parent
    for doc in ("faults.md", "scheduling.md"):
        text = " ".join((repo / "docs" / doc).read_text("utf-8").split())
        assert "item + unchanged + error + not_article + skipped + duplicate" in text, doc
