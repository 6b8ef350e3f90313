"""Scheduled runs end to end: what a second, third... run over the same site fetches and emits.

Every run is the real ``scrapy crawl rferl`` against a COPY of the sample site (so one page can be
edited between runs) through the web double, sharing one output folder and its state store.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.records import NOT_MODIFIED_PROFILE
from newsarchive.downloadermiddlewares.conditional import ConditionalRequestMiddleware
from newsarchive.extensions.manifest import DEPRECATED_COUNTS, ManifestExtension, run_counts
from newsarchive.extensions.statestore import StateStoreExtension
from newsarchive.pipelines.dedupe import DedupePipeline
from newsarchive.state.freshness import item_digest
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import SAMPLE_ARGS, load_expected, run_crawl

ARGS = SAMPLE_ARGS
CHANGED_ID = "33423580"
CHANGED_PAGE = (
    "www.rferl.org/a/russia-undesirable-organization-election-monitor-exiled/33423580.html"
)
ADDED_PARAGRAPH = "Update: the foundation said on Monday that it would appeal the decision."
IDENTICAL_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def records(folder: Path) -> list:
    """(type, target URI, headers) of every record in a run folder's WARCs."""
    out = []
    for path in sorted(folder.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                out.append(
                    (
                        record.rec_type,
                        record.rec_headers.get_header("WARC-Target-URI"),
                        record.rec_headers,
                    )
                )
    return out


def article_gets(result) -> list[dict]:
    return [r for r in result.requests if r["method"] == "GET" and "/a/" in r["path"]]


@pytest.fixture(scope="module")
def runs(sample_site, tmp_path_factory):
    """Five runs over one output: first, unchanged, one page changed, refresh-all, full=1."""
    site = tmp_path_factory.mktemp("site") / "site"
    shutil.copytree(sample_site, site)
    output = tmp_path_factory.mktemp("out")
    results = {}
    with WebDouble(site) as double:
        print(f"webdouble listening on {double.proxy_url}")
        results["first"] = run_crawl(double, output, *ARGS, run_id="r1-first")
        results["second"] = run_crawl(double, output, *ARGS, run_id="r2-unchanged")
        page = site / CHANGED_PAGE
        html = page.read_text("utf-8")
        page.write_text(
            html.replace('<div class="wsw">', f'<div class="wsw">\n<p>{ADDED_PARAGRAPH}</p>', 1),
            "utf-8",
        )
        latest = site / "www.rferl.org" / "sitemap_8_latest.xml"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        latest.write_text(
            latest.read_text("utf-8").replace(
                "33423580.html</loc><lastmod>2025-05-25T09:02:41.5Z</lastmod>",
                f"33423580.html</loc><lastmod>{now}</lastmod>",
            ),
            "utf-8",
        )
        results["third"] = run_crawl(double, output, *ARGS, run_id="r3-changed")
        results["refresh"] = run_crawl(
            double, output, *ARGS, "-s", "NEWSARCHIVE_REFRESH_WINDOW=1000000", run_id="r4-refresh"
        )
        results["full"] = run_crawl(double, output, *ARGS, "-a", "full=1", run_id="r5-full")
    for name, result in results.items():
        assert result.returncode == 0, (name, result.stdout[-2000:], result.log[-3000:])
    return results


@pytest.mark.slow
def test_first_run_emits_every_article_as_version_1(runs, sample_site):
    expected = load_expected(sample_site)
    items = runs["first"].items
    assert sorted(i["article_id"] for i in items) == sorted(
        a["article_id"] for a in expected["articles"]
    )
    assert {i["version"] for i in items} == {1}
    assert {i["previous_digest"] for i in items} == {None}


@pytest.mark.slow
def test_unchanged_second_run_fetches_no_article_and_writes_no_item(runs):
    second = runs["second"]
    assert second.items == []
    assert article_gets(second) == []
    assert second.stats["newsarchive/discovery/known_skipped"] == 16  # 14 articles + 2 pages
    # Discovery is re-read and archived every run: robots.txt, index, _news, _latest.
    archived = {uri for kind, uri, _ in records(second.folder) if kind in ("response", "revisit")}
    for host in ("www.rferl.org", "www.svoboda.org", "www.radiofarda.com"):
        site_id = {"www.rferl.org": 8, "www.svoboda.org": 2, "www.radiofarda.com": 3}[host]
        for path in ("robots.txt", "sitemap.xml", f"sitemap_{site_id}_news.xml.gz"):
            assert f"https://{host}/{path}" in archived
        assert f"https://{host}/sitemap_{site_id}_latest.xml.gz" in archived
    # Unchanged payloads are revisits of the first run's records, not second copies.
    first_ids = {h.get_header("WARC-Record-ID") for _, _, h in records(runs["first"].folder)}
    revisits = [h for kind, _, h in records(second.folder) if kind == "revisit"]
    assert revisits and not [k for k, _, _ in records(second.folder) if k == "response"]
    for headers in revisits:
        assert headers.get_header("WARC-Profile") == IDENTICAL_PROFILE
        assert headers.get_header("WARC-Refers-To") in first_ids
    assert "0 new, 0 changed" in second.stdout


@pytest.mark.slow
def test_changed_page_yields_exactly_one_item_version_2(runs):
    third = runs["third"]
    assert len(third.items) == 1
    item = third.items[0]
    assert item["article_id"] == CHANGED_ID
    assert item["version"] == 2
    assert ADDED_PARAGRAPH in item["text"]
    before = next(i for i in runs["first"].items if i["article_id"] == CHANGED_ID)
    assert item["previous_digest"] == item_digest(before)
    assert item["previous_digest"] != item_digest(item)
    # Asked conditionally (it was known), answered in full, archived as a full response.
    gets = article_gets(third)
    assert [g["path"].rsplit("/", 1)[-1] for g in gets] == [f"{CHANGED_ID}.html"]
    assert gets[0]["headers"].get("if-none-match") and gets[0]["status"] == 200
    responses = [h for kind, uri, h in records(third.folder) if kind == "response"]
    assert any(h.get_header("WARC-Target-URI").endswith(f"/{CHANGED_ID}.html") for h in responses)
    assert third.stats["newsarchive/dedupe/changed"] == 1


@pytest.mark.slow
def test_refresh_window_rechecks_conditionally_and_304s_become_revisits(runs):
    refresh = runs["refresh"]
    assert refresh.items == []
    gets = article_gets(refresh)
    # Every page with a known publication date; the video page has none (no news sitemap
    # entry, no item), so only a newer lastmod would bring it back.
    assert len(gets) == 15
    assert refresh.stats["newsarchive/discovery/known_skipped"] == 1
    assert all(g["headers"].get("if-none-match") for g in gets)
    assert {g["status"] for g in gets} == {304}
    assert refresh.stats["newsarchive/conditional/not_modified"] == 15
    # Each 304 is a server-not-modified revisit of the article's last full response.
    stored = {}
    for name in ("first", "third"):
        for kind, uri, headers in records(runs[name].folder):
            if kind == "response":
                stored[headers.get_header("WARC-Record-ID")] = uri
    not_modified = [
        h
        for kind, _, h in records(refresh.folder)
        if kind == "revisit" and h.get_header("WARC-Profile") == NOT_MODIFIED_PROFILE
    ]
    assert len(not_modified) == 15
    for headers in not_modified:
        original = headers.get_header("WARC-Refers-To")
        assert stored[original] == headers.get_header("WARC-Refers-To-Target-URI")
    changed = [
        h for h in not_modified if h.get_header("WARC-Target-URI").endswith(f"/{CHANGED_ID}.html")
    ]
    third_ids = {h.get_header("WARC-Record-ID") for _, _, h in records(runs["third"].folder)}
    assert changed[0].get_header("WARC-Refers-To") in third_ids  # the newest full copy


@pytest.mark.slow
def test_full_recrawl_fetches_everything_unconditionally(runs):
    full = runs["full"]
    assert full.items == []  # nothing changed, so nothing new to say
    gets = article_gets(full)
    assert len(gets) == 16
    assert not any(g["headers"].get("if-none-match") for g in gets)
    assert {g["status"] for g in gets} == {200}
    assert full.stats["newsarchive/dedupe/unchanged"] == 14
    # Identical payloads are revisits of earlier runs' records; only the body-less 301 of the
    # legacy /content/ URL is stored as a response (nothing to deduplicate).
    responses = [uri for kind, uri, _ in records(full.folder) if kind == "response"]
    assert [urlsplit(uri).path.split("/")[1] for uri in responses] == ["content"]


@pytest.mark.slow
def test_manifest_counts(runs):
    manifest = json.loads((runs["third"].folder / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "finished" and manifest["interrupted"] is False
    counts = manifest["counts"]
    assert counts["articles_discovered"] == 16
    assert counts["discovered"] == counts["articles_discovered"]  # deprecated alias, one release
    assert counts["changed"] == 1 and counts["new"] == 0
    assert counts["fetched"] == 1 and counts["known_skipped"] == 15
    assert manifest["items"]["count"] == 1
    assert manifest["settings"]["NEWSARCHIVE_RUN_ID"] == "r3-changed"
    assert "DUPEFILTER_CLASS" not in manifest["settings"]  # only what differs from the defaults
    # the add-on's own choice is recorded: pending requests on disk
    assert manifest["settings"]["SCHEDULER"].endswith("DiskQueueScheduler")
    assert manifest["versions"]["scrapy"] and manifest["versions"]["warcio"]
    for warc in manifest["warcs"]:
        data = (runs["third"].folder / warc["file"]).read_bytes()
        assert warc["size"] == len(data)
        assert warc["sha256"] == hashlib.sha256(data).hexdigest()


def test_manifest_articles_discovered_counts_articles_not_every_url():
    """The accounting's ``discovered`` counts every URL (sitemaps, robots.txt); the manifest's
    ``articles_discovered`` only articles, and the deprecated ``discovered`` key says the same."""
    stats = {
        "newsarchive/discovery/articles": 3,
        "newsarchive/discovery/known_skipped": 12,
        "newsarchive/accounting/discovered": 40,
    }
    counts = run_counts(stats)
    assert counts["articles_discovered"] == 15 and counts["known_skipped"] == 12
    for old, new in DEPRECATED_COUNTS.items():
        assert counts[old] == counts[new]


@pytest.mark.parametrize(
    ("component", "setting"),
    [
        (StateStoreExtension, "NEWSARCHIVE_STATE_ENABLED"),
        (ManifestExtension, "NEWSARCHIVE_MANIFEST_ENABLED"),
        (ConditionalRequestMiddleware, "NEWSARCHIVE_CONDITIONAL_ENABLED"),
        (DedupePipeline, "NEWSARCHIVE_DEDUPE_ENABLED"),
    ],
)
def test_disabled_component_is_not_configured(component, setting):
    crawler = get_crawler(settings_dict={setting: False})
    with pytest.raises(NotConfigured, match=setting):
        component.from_crawler(crawler)
