"""Every URL accounted for: a crawl of the sample site with faults mixed in, and the sums.

The sample site (copied into tmp, never modified) gets fault rules on some of its real URLs:
an article that always answers 500, one that times out, one that answers 503 once (retried to
an item), a sitemap that is reset mid-body. The test sums the accounting stats and checks them
against the items, ``errors.jsonl`` and the double's log. Component unit tests follow.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.downloadermiddlewares.backoff import (
    BackoffConfig,
    BackoffRetryMiddleware,
    parse_retry_after,
)
from newsarchive.downloadermiddlewares.scope import ScopeMiddleware
from newsarchive.extensions.accounting import OUTCOMES, AccountingExtension
from newsarchive.extensions.errorlog import ErrorLogExtension
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import SAMPLE_HOSTS, load_expected, run_crawl

ALWAYS_500 = "/a/kazakhstan-drought-wheat-harvest-farmers/33421815.html"
TIMES_OUT = "/a/33423710.html"
FLAKY = "/a/33423650.html"
RULES = [
    {"host": "www.rferl.org", "path": ALWAYS_500, "fault": {"kind": "respond", "status": 500}},
    {"host": "www.svoboda.org", "path": TIMES_OUT, "fault": {"kind": "hang", "seconds": 20}},
    {
        "host": "www.radiofarda.com",
        "path": FLAKY,
        "times": 1,
        "fault": {"kind": "respond", "status": 503},
    },
    {"host": "www.radiofarda.com", "path": "/sitemap_3_latest.xml.gz", "fault": {"kind": "reset"}},
]


@pytest.fixture(scope="module")
def crawl(sample_site, tmp_path_factory):
    site = tmp_path_factory.mktemp("site") / "site"
    shutil.copytree(sample_site, site)
    double = WebDouble(site, faults=RULES).start()
    print(f"webdouble listening on {double.proxy_url}")
    try:
        result = run_crawl(
            double,
            tmp_path_factory.mktemp("out"),
            "-a",
            f"sites={SAMPLE_HOSTS}",
            "-a",
            "since=2012-01-01",
            "-s",
            "DOWNLOAD_TIMEOUT=2",
            "-s",
            "RETRY_TIMES=1",
            "-s",
            "NEWSARCHIVE_BACKOFF_BASE=0.1",
            run_id="accounting",
            timeout=120,
        )
    finally:
        double.stop()
    result.errors = [
        json.loads(line)
        for line in (result.folder / "errors.jsonl").read_text("utf-8").splitlines()
    ]
    return result


@pytest.mark.slow
def test_sums_account_for_every_requested_url(crawl):
    stats = crawl.stats
    acc = {k: stats.get(f"newsarchive/accounting/{k}", 0) for k in (*OUTCOMES, "unaccounted")}
    assert acc["unaccounted"] == 0, crawl.log[-3000:]
    assert sum(acc.values()) == stats["newsarchive/accounting/requested"]
    assert acc["item"] == len(crawl.items)
    assert acc["error"] == len(crawl.errors)
    for outcome in ("not_article", "skipped", "error"):
        parts = [v for k, v in stats.items() if k.startswith(f"newsarchive/accounting/{outcome}/")]
        assert sum(parts) == acc[outcome], outcome
    # Everything the spider decided to fetch reached the double (or was refused by robots.txt).
    gets = {(r["host"], r["path"]) for r in crawl.requests if r["method"] == "GET"}
    assert len(gets) >= acc["item"] + acc["error"] + acc["not_article"] - acc["duplicate"]


@pytest.mark.slow
def test_faulty_urls_end_in_errors_and_the_rest_in_items(crawl, sample_site):
    reasons = {e["origin"].split("/", 2)[2]: (e["reason"], e["attempts"]) for e in crawl.errors}
    assert reasons[f"www.rferl.org{ALWAYS_500}"] == ("http_500", 2)
    assert reasons[f"www.svoboda.org{TIMES_OUT}"] == ("timeout", 2)
    # An RST lands either before Twisted sees the body end (lost) or after (data loss).
    reset = reasons["www.radiofarda.com/sitemap_3_latest.xml.gz"]
    assert reset in {("connection_lost", 2), ("data_loss", 2)}
    assert reasons["pressroom.rferl.org/sitemap.xml"][0] == "not_a_sitemap"
    expected = {a["article_id"] for a in load_expected(sample_site)["articles"]}
    got = {item["article_id"] for item in crawl.items}
    assert got == expected - {"33421815", "33423710"}  # the flaky 503 was retried to an item
    assert "accounted URLs:" in crawl.stdout and "UNACCOUNTED" not in crawl.stdout


# -- components -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("component", "setting"),
    [
        (ErrorLogExtension, "NEWSARCHIVE_ERRORLOG_ENABLED"),
        (AccountingExtension, "NEWSARCHIVE_ACCOUNTING_ENABLED"),
        (BackoffRetryMiddleware, "NEWSARCHIVE_BACKOFF_ENABLED"),
        (ScopeMiddleware, "NEWSARCHIVE_SCOPE_ENABLED"),
    ],
)
def test_disabled_component_is_not_configured(component, setting):
    with pytest.raises(NotConfigured):
        component.from_crawler(get_crawler(settings_dict={setting: False}))


def test_backoff_delay_doubles_honours_retry_after_and_caps():
    config = BackoffConfig(base=1.0, max_delay=10.0)
    assert [config.delay(n, None) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 10]
    assert config.delay(1, 5.0) == 5.0 and config.delay(4, 5.0) == 8.0
    assert config.delay(1, 3600.0) == 10.0


def test_retry_after_parsing():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(b"120") == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(b"soon") is None and parse_retry_after(None) is None
