"""What cron sees: ``scrapy crawl`` exits non-zero when the run failed, for each rule.

Each case breaks a COPY of the sample site (a sidecar answering 500, a page removed, sitemaps
emptied) and runs the real crawl; the success case is covered by tests/test_crawl_rferl.py.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import scrapy

from newsarchive.commands.crawl import EXIT_FAILED
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import SAMPLE_HOSTS, run_crawl

pytestmark = pytest.mark.slow

NO_RETRY = ("-s", "RETRY_TIMES=0")


class BoomSpider(scrapy.Spider):
    """A spider whose callback raises (loaded with ``-s SPIDER_MODULES=tests.test_exit_status``)."""

    name = "boom"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request("https://www.rferl.org/robots.txt", callback=self.parse)

    def parse(self, response):
        raise ValueError("the page layout changed")


@pytest.fixture
def site(sample_site, tmp_path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(sample_site, copy)
    return copy


def serve_500(site: Path, relative: str) -> None:
    Path(site, f"{relative}.headers.json").write_text('{"status": 500}', "utf-8")


def manifest(result) -> dict:
    return json.loads((result.folder / "manifest.json").read_text("utf-8"))


def assert_failed(result, reason: str) -> None:
    assert result.returncode == EXIT_FAILED, result.stdout[-2000:] + result.log[-3000:]
    assert reason in manifest(result)["failures"]
    line = next(x for x in result.stdout.splitlines() if x.startswith("newsarchive: run failed:"))
    assert reason in line.split(":", 1)[1].replace(",", " ").split()
    assert manifest(result)["status"] == "failed"


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("www.rferl.org/robots.txt", "robots_unreadable"),
        ("www.rferl.org/sitemap.xml", "sitemap_unreadable"),
    ],
)
def test_unreadable_discovery_fails_the_run(site, tmp_path, broken, reason):
    serve_500(site, broken)
    with WebDouble(site) as double:
        result = run_crawl(double, tmp_path / "out", "-a", "sites=www.rferl.org", *NO_RETRY)
    assert_failed(result, reason)


def test_error_ratio_over_threshold_fails_the_run(site, tmp_path):
    for page in (site / "www.svoboda.org" / "a").rglob("*.html"):
        page.unlink()  # every svoboda article now answers 404
    args = ("-a", f"sites={SAMPLE_HOSTS}", *NO_RETRY)
    with WebDouble(site) as double:
        result = run_crawl(double, tmp_path / "out", *args, "-s", "NEWSARCHIVE_MAX_ERROR_RATIO=0.1")
    assert_failed(result, "error_ratio")
    assert "NEWSARCHIVE_MAX_ERROR_RATIO=0.1" in result.log


def test_site_that_went_silent_fails_the_run(site, tmp_path):
    args = ("-a", "sites=www.rferl.org,www.svoboda.org")
    with WebDouble(site) as double:
        first = run_crawl(double, tmp_path / "out", *args, run_id="before")
        assert first.returncode == 0, first.log[-3000:]
        empty = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>'
        for sitemap in (site / "www.svoboda.org").glob("sitemap_2_*.xml"):
            sitemap.write_text(empty, "utf-8")  # the "redesign": sitemaps list nothing
        second = run_crawl(double, tmp_path / "out", *args, run_id="after")
    assert_failed(second, "site_silent")
    assert "no article on www.svoboda.org" in second.log


def test_spider_exception_fails_the_run(webdouble_factory, sample_site, tmp_path):
    double = webdouble_factory(sample_site)
    result = run_crawl(
        double, tmp_path, "-s", "SPIDER_MODULES=tests.test_exit_status", spider="boom"
    )
    assert_failed(result, "spider_error")
    assert "the page layout changed" in result.log


def test_extraction_failures_count_towards_the_error_ratio(site, tmp_path):
    # Every article page of www.rferl.org becomes 50,000 one-letter paragraphs, which trafilatura
    # takes far longer than the 0.5 s budget to judge (quadratic: 20,000 take 1.7 s, see
    # tests/test_bounded_extraction.py). Each is an errors.jsonl line in the extract phase, not
    # a fetch failure, and still counts as a failed URL.
    hostile = "<html><body><article>" + "<p>a</p>" * 50_000 + "</article></body></html>"
    pages = list((site / "www.rferl.org" / "a").rglob("*.html"))
    for page in pages:
        page.write_text(hostile, "utf-8")
    args = ("-a", "sites=www.rferl.org", *NO_RETRY, "-s", "NEWSARCHIVE_EXTRACT_TIMEOUT=0.5")
    with WebDouble(site) as double:
        result = run_crawl(double, tmp_path / "out", *args)
    assert_failed(result, "error_ratio")
    errors = [json.loads(x) for x in (result.folder / "errors.jsonl").read_text().splitlines()]
    assert errors and {(e["phase"], e["reason"]) for e in errors} == {
        ("extract", "extraction_timeout")
    }
    assert result.items == []
    counts = manifest(result)["counts"]
    assert counts["failed"] == len(errors) == result.stats["newsarchive/errors/urls"]
    requested = result.stats["newsarchive/accounting/requested"]
    assert f"{len(errors)} of {requested} requested URLs failed" in result.log
