"""Every URL accounted for: a crawl of the sample site with faults mixed in, and the sums.

The sample site (copied into tmp, never modified) gets fault rules on some of its real URLs:
an article that always answers 500, one that times out, one that answers 503 once (retried to
an item), a sitemap that is reset mid-body. A second, scheduled run on the same output follows,
in which most articles are known and not fetched again. The tests sum the accounting stats of
both runs and check them against the items, ``errors.jsonl``, the double's log and the URLs the
site's own files list. Component unit tests follow.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.archive.manifest import MANIFEST_FILENAME
from newsarchive.discovery.pangea import sitemap_role
from newsarchive.discovery.sitemaps import iter_sitemap
from newsarchive.discovery.urlkey import strip_tracking
from newsarchive.downloadermiddlewares.backoff import (
    BackoffConfig,
    BackoffRetryMiddleware,
    parse_retry_after,
)
from newsarchive.downloadermiddlewares.scope import ScopeMiddleware
from newsarchive.extensions.accounting import OUTCOMES, AccountingExtension
from newsarchive.extensions.errorlog import ErrorLogExtension
from newsarchive.schema import urls_schema
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
RESET_SITEMAP = "https://www.radiofarda.com/sitemap_3_latest.xml.gz"
SINCE = "2012-01-01"
CRAWL_ARGS = (
    "-a",
    f"sites={SAMPLE_HOSTS}",
    "-a",
    f"since={SINCE}",
    "-s",
    "DOWNLOAD_TIMEOUT=2",
    "-s",
    "RETRY_TIMES=1",
    "-s",
    "NEWSARCHIVE_BACKOFF_BASE=0.1",
)


def _errors(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "errors.jsonl").read_text("utf-8").splitlines()]


def listed_urls(site: Path, hosts: str = SAMPLE_HOSTS) -> set[str]:
    """Every URL a ``since=2012-01-01`` crawl of the sample site comes to know, from the site's
    own files: robots.txt, the feed the spider tries (or finds disallowed by robots.txt), the
    sitemap indexes (an off-host one too, never read), every child sitemap they list, and the
    entries of the child sitemaps the spider reads (news, latest, slices changed since) unless
    the fault breaks it."""
    urls: set[str] = set()
    for host in hosts.split(","):
        urls.add(f"https://{host}/robots.txt")
        urls.add(f"https://{host}/api/")
        robots = (site / host / "robots.txt").read_text("utf-8")
        for line in robots.splitlines():
            if line.lower().startswith("sitemap:"):
                index = line.split(":", 1)[1].strip()
                urls.add(index)
                if host == "pressroom.rferl.org":  # an HTML page, not a sitemap (a failure)
                    continue
                if urlsplit(index).hostname != host:  # off-host: listed, not requested
                    continue
                for child in iter_sitemap((site / host / "sitemap.xml").read_bytes()):
                    urls.add(child.loc)
                    role = sitemap_role(child.loc)
                    wanted = role in ("news", "latest") or (
                        role == "archive" and child.lastmod.date().isoformat() >= SINCE
                    )
                    if not wanted or child.loc == RESET_SITEMAP:
                        continue
                    name = urlsplit(child.loc).path.lstrip("/").removesuffix(".gz")
                    entries = iter_sitemap((site / host / name).read_bytes())
                    urls.update(strip_tracking(entry.loc) for entry in entries)
    return urls


@pytest.fixture(scope="module")
def site(sample_site, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("site") / "site"
    shutil.copytree(sample_site, copy)
    return copy


@pytest.fixture(scope="module")
def runs(site, tmp_path_factory):
    """The faulty crawl, a scheduled second run on the same output (state store), then a full
    re-crawl (``-a full=1``) that fetches every article again and finds it unchanged."""
    output = tmp_path_factory.mktemp("out")
    double = WebDouble(site, faults=RULES).start()
    print(f"webdouble listening on {double.proxy_url}")
    try:
        first = run_crawl(double, output, *CRAWL_ARGS, run_id="accounting", timeout=120)
        second = run_crawl(double, output, *CRAWL_ARGS, run_id="scheduled", timeout=120)
        full = run_crawl(double, output, *CRAWL_ARGS, "-a", "full=1", run_id="full", timeout=120)
    finally:
        double.stop()
    for result in (first, second, full):
        result.errors = _errors(result.folder)
    return {"first": first, "second": second, "full": full}


@pytest.fixture(scope="module")
def crawl(runs):
    return runs["first"]


def assert_every_discovered_url_is_accounted_for(result) -> dict[str, int]:
    """discovered = requested + not requested, each side summed from its reasons."""
    stats = result.stats
    get = lambda key: stats.get(f"newsarchive/accounting/{key}", 0)  # noqa: E731 - local alias
    acc = {k: get(k) for k in (*OUTCOMES, "pending", "unaccounted")}
    assert acc["unaccounted"] == 0, result.log[-3000:]
    assert sum(acc.values()) == get("requested")
    assert acc["item"] == len(result.items)
    assert acc["error"] == len(result.errors)
    for outcome in ("unchanged", "not_article", "skipped", "error", "not_requested"):
        prefix = f"newsarchive/accounting/{outcome}/"
        assert sum(v for k, v in stats.items() if k.startswith(prefix)) == get(outcome), outcome
    assert get("discovered") == get("requested") + get("not_requested")
    assert f"discovered URLs: {get('discovered')} = {get('requested')} requested" in result.stdout
    assert_urls_jsonl_is_the_accounting(result)
    return {k: v for k, v in stats.items() if k.startswith("newsarchive/accounting/")}


def url_lines(result) -> list[dict]:
    return [json.loads(x) for x in (result.folder / "urls.jsonl").read_text("utf-8").splitlines()]


def assert_urls_jsonl_is_the_accounting(result) -> None:
    """One valid line per discovered URL; the lines per outcome and reason are the stats."""
    lines = url_lines(result)
    validator = jsonschema.Draft202012Validator(urls_schema())
    for line in lines:
        validator.validate(line)
    stats = {k.removeprefix("newsarchive/accounting/"): v for k, v in result.stats.items()
             if k.startswith("newsarchive/accounting/")}  # fmt: skip
    assert len(lines) == len({line["url"] for line in lines}) == stats["discovered"]
    counted: dict[str, int] = {}
    for line in lines:
        for key in (line["outcome"], f"{line['outcome']}/{line['reason']}"):
            counted[key] = counted.get(key, 0) + 1
    counted.pop("unaccounted/None", None)
    expected = {k: v for k, v in stats.items() if v and k not in ("discovered", "requested")}
    assert counted == expected


@pytest.mark.slow
def test_sums_account_for_every_discovered_url(crawl, site):
    acc = assert_every_discovered_url_is_accounted_for(crawl)
    stats = crawl.stats
    # Nothing listed went missing: the count is the site's own list of URLs, no more, no less.
    assert acc["newsarchive/accounting/discovered"] == len(listed_urls(site))
    # Each listing of an article already listed (same URL or another form) is one discovery stat;
    # a URL counts once, so the accounting's duplicates are at most the listings'.
    dup = acc["newsarchive/accounting/not_requested/duplicate_article"]
    assert 0 < dup <= stats["newsarchive/discovery/duplicate_article"]
    # Sections and videos sitemaps are listed but not read without a reason to.
    assert acc["newsarchive/accounting/not_requested/sitemap_skipped"] == sum(
        v for k, v in stats.items() if k.startswith("newsarchive/discovery/sitemap_skipped/")
    )
    # Everything the spider decided to fetch reached the double (or was refused by robots.txt).
    gets = {(r["host"], r["path"]) for r in crawl.requests if r["method"] == "GET"}
    assert len(gets) >= acc["newsarchive/accounting/requested"] - acc.get(
        "newsarchive/accounting/skipped", 0
    )


@pytest.mark.slow
def test_scheduled_run_accounts_for_known_articles(runs, site):
    first, second = runs["first"], runs["second"]
    acc = assert_every_discovered_url_is_accounted_for(second)
    known = second.stats["newsarchive/discovery/known_skipped"]
    assert known >= 10  # most articles: every one archived by the first run
    assert acc["newsarchive/accounting/not_requested/known_skipped"] == known
    # The same site lists the same URLs; only their fates moved from requested to known.
    assert (
        acc["newsarchive/accounting/discovered"]
        == first.stats["newsarchive/accounting/discovered"]
        == len(listed_urls(site))
    )
    assert (
        acc["newsarchive/accounting/requested"]
        == first.stats["newsarchive/accounting/requested"] - known
    )
    assert f"{known} known_skipped" in second.stdout


@pytest.mark.slow
def test_unchanged_articles_of_a_full_recrawl_are_not_errors(runs):
    first, full = runs["first"], runs["full"]
    acc = assert_every_discovered_url_is_accounted_for(full)
    manifest = json.loads((full.folder / MANIFEST_FILENAME).read_text("utf-8"))
    # The reset sitemap fails this run as it did the first (sitemap_unreadable), nothing more.
    assert manifest["failures"] == ["sitemap_unreadable"], manifest["failures"]
    assert full.items == []  # every article says what its first item said
    unchanged = full.stats["newsarchive/dedupe/unchanged"]
    assert unchanged == len(first.items)
    # Articles whose earlier item stands: unchanged (a 200 with the same content), not errors
    # and not "not articles".
    assert acc["newsarchive/accounting/unchanged"] == unchanged
    assert acc["newsarchive/accounting/unchanged/same_content"] == unchanged
    assert not any(k.startswith("newsarchive/accounting/not_article/unchanged") for k in acc)
    assert f"{len(full.items)} items + {unchanged} unchanged + " in full.stdout
    # errors.jsonl holds the same faults as the first run's, and no "unchanged" drop.
    assert sorted((e["origin"], e["reason"]) for e in full.errors) == sorted(
        (e["origin"], e["reason"]) for e in first.errors
    )


@pytest.mark.slow
def test_manifest_failed_is_the_error_log(crawl):
    # Fetch failures and a not_a_sitemap (reported outside the errbacks) alike.
    manifest = json.loads((crawl.folder / MANIFEST_FILENAME).read_text("utf-8"))
    assert (
        manifest["counts"]["failed"] == len(crawl.errors) == crawl.stats["newsarchive/errors/urls"]
    )
    assert {e["reason"] for e in crawl.errors} >= {"http_500", "timeout", "not_a_sitemap"}
    assert f"failed URLs: {len(crawl.errors)}" in crawl.stdout


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


@pytest.mark.slow
def test_urls_jsonl_says_what_became_of_each_url(crawl, site):
    lines = {line["url"]: line for line in url_lines(crawl)}
    assert set(lines) == listed_urls(site)  # every URL the site lists, none made up
    failed = lines[f"https://www.rferl.org{ALWAYS_500}"]
    assert (failed["outcome"], failed["reason"], failed["status"], failed["attempts"]) == (
        "error",
        "http_500",
        500,
        2,
    )
    # Both 500s are archived; the retry's, the last, repeats the first's body: a revisit.
    assert failed["warc"]["record_type"] == "revisit"
    hung = lines[f"https://www.svoboda.org{TIMES_OUT}"]
    assert (hung["outcome"], hung["status"], hung["attempts"], hung["warc"]) == (
        "error",
        None,
        2,
        None,
    )
    flaky = lines[f"https://www.radiofarda.com{FLAKY}"]  # 503, retried to an item
    assert (flaky["outcome"], flaky["status"], flaky["attempts"]) == ("item", 200, 2)
    # Each item's line points at the record the item was extracted from, found where it says.
    for item in crawl.items:
        line = next(v for v in lines.values() if item["url"] in (v["url"], *v["redirects"]))
        assert line["outcome"] == "item" and line["fetched_at"]
        assert line["warc"]["filename"] == item["warc"]["filename"]
        assert line["warc"]["offset"] == item["warc"]["offset"]
        assert line["discovered_from"] == item["discovered_from"]
    # A redirect chain is one line, under the URL that was listed.
    moved = [v for v in lines.values() if v["redirects"]]
    assert moved and all(v["redirects"][0] == v["url"] for v in moved)
    assert "https://www.rferl.org/robots.txt" in lines
    robots = lines["https://www.rferl.org/robots.txt"]
    assert (robots["outcome"], robots["reason"], robots["discovered_from"]) == (
        "not_article",
        "robots",
        None,
    )
    # A sitemap found through the index says so; an article not requested keeps its reason.
    children = [v for v in lines.values() if v["reason"] == "sitemap:news"]
    assert children and all(v["discovered_from"].endswith("/sitemap.xml") for v in children)
    dropped = [v for v in lines.values() if v["reason"] in ("duplicate_article", "before_since")]
    assert dropped and all(v["outcome"] == "not_requested" for v in dropped)
    assert all("sitemap" in v["discovered_from"] for v in dropped)  # the listing it was on
    feed = lines["https://www.rferl.org/api/"]  # disallowed by robots.txt, which says so
    assert (feed["outcome"], feed["reason"], feed["discovered_from"]) == (
        "not_requested",
        "robots_disallowed",
        "https://www.rferl.org/robots.txt",
    )


@pytest.mark.slow
def test_a_run_stopped_by_closespider_leaves_pending_urls_not_a_failure(sample_site, tmp_path):
    """``CLOSESPIDER_ITEMCOUNT`` stops the run with requests queued: they are pending, the
    identity still holds, and the run the user asked to stop early exits 0."""
    # One request at a time and slow article pages: when the third item stops the run, most
    # articles are still queued however slowly extraction runs (a loaded CI machine).
    with WebDouble(sample_site, delay=0.4, delay_paths="/a/*") as double:
        result = run_crawl(
            double,
            tmp_path,
            *CRAWL_ARGS,
            "-s",
            "CLOSESPIDER_ITEMCOUNT=3",
            "-s",
            "CONCURRENT_REQUESTS=1",
            run_id="early",
        )
    result.errors = _errors(result.folder) if (result.folder / "errors.jsonl").exists() else []
    assert result.stats["finish_reason"] == "closespider_itemcount"
    acc = assert_every_discovered_url_is_accounted_for(result)
    pending = acc["newsarchive/accounting/pending"]
    where = {w: result.stats.get(f"newsarchive/accounting/pending/{w}", 0)
             for w in ("queued", "in_flight", "interrupted")}  # fmt: skip
    assert pending == sum(where.values()) and where["queued"] > 0, where
    # Queued URLs never left the scheduler: the server never saw the ones the log names.
    seen = {f"https://{r['host']}{r['path']}" for r in result.requests if r["method"] == "GET"}
    line = next(x for x in result.log.splitlines() if f"{where['queued']} queued, e.g." in x)
    examples = line.split("e.g. ", 1)[1].split()
    assert examples and not seen & set(examples), (examples, sorted(seen))
    assert 3 <= len(result.items) < len(load_expected(sample_site)["articles"])
    manifest = json.loads((result.folder / MANIFEST_FILENAME).read_text("utf-8"))
    assert "unaccounted_urls" not in manifest["failures"]
    assert result.returncode == 0, result.stdout[-2000:] + result.log[-3000:]
    assert f"+ {pending} pending ({where['queued']} queued" in result.stdout


@pytest.mark.slow
def test_an_off_host_sitemap_line_in_robots_txt_is_counted(sample_site, tmp_path):
    """rferl's robots.txt lists a sitemap on another host (never requested) and disallows the
    feed: both are discovered URLs, not requested, each with its reason."""
    host = "www.rferl.org"
    site = tmp_path / "site"
    shutil.copytree(sample_site / host, site / host)
    robots = site / host / "robots.txt"
    offsite = "https://elsewhere.example/sitemap.xml"
    robots.write_text(robots.read_text("utf-8") + f"Sitemap: {offsite}\n", "utf-8")
    with WebDouble(site) as double:
        result = run_crawl(double, tmp_path / "out", "-a", f"sites={host}", "-a", f"since={SINCE}")
    result.errors = _errors(result.folder) if (result.folder / "errors.jsonl").exists() else []
    assert result.returncode == 0, result.stdout[-2000:] + result.log[-3000:]
    acc = assert_every_discovered_url_is_accounted_for(result)
    assert acc["newsarchive/accounting/not_requested/offsite_sitemap"] == 1
    assert acc["newsarchive/accounting/not_requested/robots_disallowed"] == 1  # the /api/ feed
    assert acc["newsarchive/accounting/discovered"] == len(listed_urls(site, host))
    assert offsite in listed_urls(site, host)
    assert "elsewhere.example" not in {r["host"] for r in result.requests}


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
