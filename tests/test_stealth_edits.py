"""Stealth edits end to end: re-checks by age, versions that say what changed, removals.

The real ``scrapy crawl rferl`` against a COPY of the sample site through the web double, one
output shared by the runs. Between runs one old article's title and text are edited and another
article is deleted, without touching any sitemap: only a re-check can notice. The schedule's
clock is the tests' (``NEWSARCHIVE_RECHECK_NOW``): nothing waits.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.downloadermiddlewares.removal import RemovalMiddleware
from newsarchive.extensions.changelog import ChangeLogExtension
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import REPO, SAMPLE_ARGS, crawl_command, run_crawl

EDITED_ID = "33423580"
EDITED_PAGE = (
    "www.rferl.org/a/russia-undesirable-organization-election-monitor-exiled/33423580.html"
)
DELETED_ID = "33422970"
DELETED_PAGE = "www.rferl.org/a/kyrgyzstan-media-law-parliament-vote/33422970.html"
REDIRECTED_ID = "33423044"
REDIRECTED_PAGE = "www.svoboda.org/a/lekarstva-tseny-pensionery-regiony/33423044.html"
ADDED = "Update: the ministry did not answer a request for comment."
ARTICLES = 14  # articles of the sample site that give an item


def article_gets(result) -> list[dict]:
    return [r for r in result.requests if r["method"] == "GET" and "/a/" in r["path"]]


def changes_lines(result) -> list[dict]:
    path = result.folder / "changes.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def edit_site(site) -> None:
    """Edit one article (headline everywhere it is printed, one word, one new paragraph),
    delete another, and make a third redirect to its site's home page."""
    page = site / EDITED_PAGE
    html = page.read_text("utf-8")
    html = html.replace("Brands Exiled Election Monitor", "Outlaws Exiled Election Monitor")
    html = html.replace(
        "Justice Ministry on Saturday declared", "Justice Ministry on Friday declared"
    )
    html = html.replace('<div class="wsw">', f'<div class="wsw">\n<p>{ADDED}</p>', 1)
    page.write_text(html, "utf-8")
    (site / DELETED_PAGE).unlink()
    redirected = site / REDIRECTED_PAGE
    redirected.unlink()
    sidecar = redirected.with_name(redirected.name + ".headers.json")
    sidecar.write_text(
        json.dumps({"status": 301, "headers": {"Location": "https://www.svoboda.org/"}}), "utf-8"
    )


@pytest.fixture(scope="module")
def runs(sample_site, tmp_path_factory):
    site = tmp_path_factory.mktemp("site") / "site"
    shutil.copytree(sample_site, site)
    output = tmp_path_factory.mktemp("out")
    results = {}
    with WebDouble(site) as double:
        print(f"webdouble listening on {double.proxy_url}")
        results["first"] = run_crawl(double, output, *SAMPLE_ARGS, run_id="r1-first")
        edit_site(site)
        results["recheck"] = run_crawl(
            double, output, *SAMPLE_ARGS, "-a", "recheck=all", run_id="r2-recheck-all"
        )
        results["again"] = run_crawl(
            double, output, *SAMPLE_ARGS, "-a", "recheck=all", run_id="r3-still-gone"
        )
        # The deleted article comes back as it was.
        shutil.copy(sample_site / DELETED_PAGE, site / DELETED_PAGE)
        results["back"] = run_crawl(
            double, output, *SAMPLE_ARGS, "-a", "recheck=all", run_id="r4-back"
        )
        # The tests' clock: long after every step of a schedule reaching the 2012 articles.
        clock = ("-s", "NEWSARCHIVE_RECHECK_SCHEDULE=1000d,6000d",
                 "-s", "NEWSARCHIVE_RECHECK_NOW=2029-01-01T00:00:00Z",
                 "-s", "NEWSARCHIVE_RECHECK_BUDGET=5")  # fmt: skip
        results["due1"] = run_crawl(double, output, *SAMPLE_ARGS, *clock, run_id="r5-due")
        results["due2"] = run_crawl(double, output, *SAMPLE_ARGS, *clock, run_id="r6-due")
        results["real"] = run_crawl(double, output, *SAMPLE_ARGS, run_id="r7-default")
    results["output"] = output
    for name, result in results.items():
        if name != "output":
            assert result.returncode == 0, (name, result.stdout[-2000:], result.log[-3000:])
    return results


@pytest.mark.slow
def test_recheck_all_finds_the_stealth_edit_and_the_removals(runs):
    result = runs["recheck"]
    # Exactly one new item: the edited article, version 2, saying title and text changed.
    assert len(result.items) == 1
    item = result.items[0]
    assert item["article_id"] == EDITED_ID and item["version"] == 2
    assert item["title"].startswith("Russia Outlaws Exiled Election Monitor")
    changes = item["changes"]
    assert changes["fields"] == ["title", "text"] and changes["restored"] is False
    assert changes["text"]["paragraphs_added"] == 1
    assert changes["text"]["paragraphs_changed"] == 1
    assert changes["text"]["paragraphs_removed"] == 0
    assert changes["text"]["chars_after"] - changes["text"]["chars_before"] == len(ADDED) + 2 - 2
    # Every known article was asked again, conditionally; the unchanged ones answered 304.
    gets = article_gets(result)
    assert all(g["headers"].get("if-none-match") for g in gets), gets
    statuses = sorted(g["status"] for g in gets)
    assert statuses.count(200) == 1  # the edited one
    assert statuses.count(404) == 1 and statuses.count(301) == 1
    assert statuses.count(304) == ARTICLES - 3
    assert result.stats["newsarchive/recheck/planned"] == ARTICLES
    assert result.stats["newsarchive/removal/removed"] == 2
    assert result.stats["newsarchive/accounting/not_article/removed"] == 2


@pytest.mark.slow
def test_changes_jsonl_names_versions_and_records(runs):
    first, result = runs["first"], runs["recheck"]
    lines = {line["article_key"]: line for line in changes_lines(result)}
    assert set(lines) == {EDITED_ID, DELETED_ID, REDIRECTED_ID}
    changed = lines[EDITED_ID]
    before = next(i for i in first.items if i["article_id"] == EDITED_ID)
    after = result.items[0]
    assert changed["kind"] == "changed"
    assert (changed["old_version"], changed["new_version"]) == (1, 2)
    assert changed["old_record"]["record_id"] == before["warc"]["record_id"]
    assert changed["old_record"]["run_id"] == "r1-first"
    assert changed["new_record"]["record_id"] == after["warc"]["record_id"]
    assert changed["new_record"]["run_id"] == "r2-recheck-all"
    assert changed["changes"] == after["changes"]
    deleted = lines[DELETED_ID]
    assert deleted["kind"] == "removed" and deleted["reason"] == "http_404"
    assert (deleted["old_version"], deleted["new_version"]) == (1, None)
    assert deleted["new_record"]["filename"].endswith(".warc.gz")
    redirected = lines[REDIRECTED_ID]
    assert redirected["kind"] == "removed" and redirected["reason"] == "redirect"
    assert redirected["new_record"]["uri"] == "https://www.svoboda.org/"


@pytest.mark.slow
def test_a_removed_article_is_recorded_once_and_its_return_is_a_new_version(runs):
    again = runs["again"]
    assert again.items == [] and changes_lines(again) == []
    assert again.stats["newsarchive/removal/still_removed"] == 2
    back = runs["back"]
    assert len(back.items) == 1
    item = back.items[0]
    assert item["article_id"] == DELETED_ID and item["version"] == 2
    assert item["changes"] == {"fields": [], "text": None, "restored": True}
    # Asked unconditionally (its old validators were dropped at the removal).
    gets = [g for g in article_gets(back) if g["path"].endswith(f"/{DELETED_ID}.html")]
    assert len(gets) == 1 and not gets[0]["headers"].get("if-none-match")
    (line,) = changes_lines(back)
    assert line["kind"] == "restored" and line["reason"] == "http_404"
    assert (line["old_version"], line["new_version"]) == (1, 2)


def rechecked(result) -> set[str]:
    return {g["path"].rsplit("/", 1)[-1] for g in article_gets(result)}


@pytest.mark.slow
def test_schedule_budget_and_carry_over_with_the_tests_clock(runs):
    due1, due2 = runs["due1"], runs["due2"]
    assert due1.stats["newsarchive/recheck/due"] == ARTICLES
    assert due1.stats["newsarchive/recheck/planned"] == 5
    assert due1.stats["newsarchive/recheck/carried_over"] == ARTICLES - 5
    # Five asked, conditionally; the sitemaps did not move, so nothing else.
    assert len(rechecked(due1)) == 5 and len(article_gets(due1)) == 5
    assert all(g["headers"].get("if-none-match") for g in article_gets(due1)
               if g["status"] != 301)  # fmt: skip
    assert due1.items == []
    # The next run takes the next five: what was checked is no longer due.
    assert due2.stats["newsarchive/recheck/due"] == ARTICLES - 5
    assert due2.stats["newsarchive/recheck/carried_over"] == ARTICLES - 10
    assert len(rechecked(due2)) == 5 and not rechecked(due1) & rechecked(due2)
    # The real clock and the default schedule: these 2012 and 2025 articles are past every step.
    real = runs["real"]
    assert real.stats["newsarchive/recheck/due"] == 0 and article_gets(real) == []


def history(output, target: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "scrapy", "history", target,
           "--output-dir", str(output / "rferl"), *args]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_history_shows_versions_and_the_words_that_changed_from_the_archive(runs, tmp_path):
    output = runs["output"]
    shown = history(output, EDITED_ID, "--html", str(tmp_path / "h.html"))
    assert shown.returncode == 0, shown.stderr
    print(shown.stdout)
    text = shown.stdout
    lines = text.splitlines()
    assert lines[0] == f"article {EDITED_ID}: 2 version(s), 0 removal(s)"
    first_ref = next(i for i in runs["first"].items if i["article_id"] == EDITED_ID)["warc"]
    second_ref = runs["recheck"].items[0]["warc"]
    assert lines[1].startswith("  v1  ") and "r1-first/" in lines[1]
    assert first_ref["record_id"] in lines[1] and f"@{first_ref['offset']} " in lines[1]
    assert lines[2].startswith("  v2  ") and second_ref["record_id"] in lines[2]
    # v2 was seen again by later re-checks (304s: revisits of its record), one version still.
    assert re.search(r"\((\d+) captures\)$", lines[2]) and int(lines[2].split("(")[-1][:-10]) >= 3
    assert "--- v1 -> v2" in text
    title = next(line for line in lines if line.startswith("title: "))
    assert "[-Brands-] {+Outlaws+}" in title
    body = text.split("\ntext: ", 1)[1]
    assert "[-Saturday-] {+Friday+}" in body
    assert body.startswith("{+" + ADDED + "+}")
    page = (tmp_path / "h.html").read_text("utf-8")
    assert "<del>Brands</del><ins>Outlaws</ins>" in page and "<del>Saturday</del>" in page
    # The diff comes from the archive: without any items file the output is the same.
    for items in (output / "rferl").glob("*/items.jsonl"):
        items.unlink()
    again = history(output, f"https://{EDITED_PAGE}")
    assert again.returncode == 0 and again.stdout == shown.stdout


@pytest.mark.slow
@pytest.mark.slow
def test_history_html_renders_offline_in_chromium(runs, tmp_path):
    from selenium.webdriver.common.by import By

    from tests.test_report import _driver

    page = tmp_path / "history.html"
    assert history(runs["output"], EDITED_ID, "--html", str(page)).returncode == 0
    driver = _driver(tmp_path / "profile")
    try:
        driver.get(page.as_uri())
        assert driver.title == f"History of article {EDITED_ID}"
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        deleted = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".title del, .text del")]
        inserted = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".title ins, .text ins")]
        struck = driver.execute_script(
            "return getComputedStyle(document.querySelector('del')).textDecorationLine"
        )
        versions = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table tr")]
    finally:
        driver.quit()
    assert fetched == []
    assert deleted == ["Brands", "Saturday"]
    assert inserted == ["Outlaws", ADDED, "Friday"]
    assert struck == "line-through"
    assert [v.split()[0] for v in versions] == ["v1", "v2"]


def test_history_shows_a_removal_and_the_return(runs):
    shown = history(runs["output"], DELETED_ID)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"article {DELETED_ID}: 2 version(s), 1 removal(s)"
    assert lines[1].startswith("  v1  ")
    assert lines[2].startswith("  removed (http_404)  ") and "r2-recheck-all/" in lines[2]
    assert lines[3].startswith("  v2  ")
    assert "title: unchanged" in shown.stdout and "text: unchanged" in shown.stdout
    missing = history(runs["output"], "99999999")
    assert missing.returncode != 0 and "no archived capture" in missing.stderr


@pytest.mark.parametrize(
    ("component", "setting"),
    [
        (RemovalMiddleware, "NEWSARCHIVE_REMOVAL_ENABLED"),
        (ChangeLogExtension, "NEWSARCHIVE_CHANGELOG_ENABLED"),
    ],
)
def test_disabled_component_is_not_configured(component, setting):
    crawler = get_crawler(settings_dict={setting: False})
    with pytest.raises(NotConfigured, match=setting):
        component.from_crawler(crawler)


def test_a_bad_recheck_value_is_a_usage_error(tmp_path):
    cmd = crawl_command(tmp_path, "bad", "-a", "recheck=sometimes", log_level=None)
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "-a recheck=sometimes: give all, 0, or leave it out" in done.stderr
    assert not list(tmp_path.rglob("*.warc.gz"))


@pytest.mark.slow
def test_news_spider_rechecks_and_records_a_removal_the_same_way(tmp_path):
    """The re-check and removal path is the spiders' shared one: ``news`` on any site too."""
    from tests.test_news_incremental import SITE, article_gets, sites_file

    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    output = tmp_path / "out"
    args = ("-a", f"sites_file={sites_file(tmp_path)}")
    with WebDouble(site) as double:
        first = run_crawl(double, output, *args, spider="news", run_id="n1")
        gone = first.items[0]
        page = site / gone["url"].split("://", 1)[1]
        (page / "index.html" if page.is_dir() else page).unlink()
        again = run_crawl(double, output, *args, "-a", "recheck=all", spider="news", run_id="n2")
    assert first.returncode == 0 and again.returncode == 0, again.log[-3000:]
    assert again.items == []
    assert again.stats["newsarchive/recheck/planned"] == len(first.items)
    gets = article_gets(again)
    assert sorted(g["status"] for g in gets).count(404) == 1
    assert {g["status"] for g in gets} <= {304, 404, 200}
    (line,) = changes_lines(again)
    assert line["kind"] == "removed" and line["article_key"] == gone["article_key"]
    assert line["reason"] == "http_404" and line["old_version"] == 1
