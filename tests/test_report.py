"""``report.html``: written by every run, self-contained, and true to the manifest.

The browser test opens a real crawl's report in Debian's headless Chromium with the network cut
(every host name resolves to nothing, the proxy is a closed port, and DevTools puts the page
offline), checks that nothing was fetched, that the charts rendered (bars with a size on
screen), and that the numbers shown equal the manifest's, the stats' and the items'. The
screenshot is kept as ``test-artifacts/report.png``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.extensions.report import ReportExtension
from newsarchive.report import REPORT_FILE, gather, render, write_report
from newsarchive.report.charts import MAX_DAYS, by_period
from tests.archive_crawl import gzip_chunked_crawl
from tests.test_browser_replay import ARTIFACTS, CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS

#: No name resolves and the proxy is a closed port: any fetch the page tried would fail.
NETWORK_CUT = ("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9")


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return gzip_chunked_crawl(tmp_path_factory)


def test_every_run_writes_its_report(crawl):
    report = crawl.folder / REPORT_FILE
    assert report.is_file()
    assert f"report:          {report}" in crawl.stdout
    html = report.read_text("utf-8")
    assert "<script" not in html and 'http-equiv="Content-Security-Policy"' in html
    assert "src=" not in html  # nothing to load: no image, no frame, no script


def test_disabled_report_is_not_configured():
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_REPORT_ENABLED": False})
    with pytest.raises(NotConfigured, match="NEWSARCHIVE_REPORT_ENABLED"):
        ReportExtension.from_crawler(crawler)


def test_long_spans_are_drawn_per_month():
    days = {f"2024-{m:02d}-{d:02d}": 1 for m in range(1, 13) for d in (1, 15)}
    period, rows = by_period(days)
    assert period == "month" and len(rows) == 12 and sum(v for _, v in rows) == 24
    short = {f"2024-01-{d:02d}": d for d in range(1, 31)}
    assert by_period(short) == ("day", sorted(short.items()))
    assert len(short) <= MAX_DAYS


def test_errors_are_grouped_and_capped(tmp_path, crawl):
    """A run folder with many failures of two kinds: one group per reason, URLs listed."""
    folder = tmp_path / "rferl" / "run"
    folder.mkdir(parents=True)
    for name in ("manifest.json", "selfcheck.json", "items.jsonl"):
        (folder / name).write_bytes((crawl.folder / name).read_bytes())
    lines = [
        {"url": f"https://www.rferl.org/a/{n}.html", "phase": "fetch", "reason": "http_500"}
        for n in range(150)
    ] + [{"url": "https://www.rferl.org/x", "phase": "discovery", "reason": "not_a_sitemap"}]
    (folder / "errors.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + "{torn")
    facts = gather(folder, max_articles=3)
    assert [(g.reason, g.count, len(g.urls)) for g in facts.errors] == [
        ("http_500", 150, 100),
        ("not_a_sitemap", 1, 1),
    ]
    assert facts.unreadable_lines == 1
    assert len(facts.articles) == 3 and facts.items == len(crawl.items)
    html = render(facts)
    assert "… and 50 more in errors.jsonl" in html
    assert f"… and {len(crawl.items) - 3:,} more in items.jsonl" in html
    assert write_report(folder).name == REPORT_FILE


def _driver(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for tool in (CHROMIUM, CHROMEDRIVER):
        if not tool.exists():
            pytest.fail(f"{tool} missing: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, *NETWORK_CUT, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    return driver


def _bars(driver, chart_id: str) -> list[tuple[str, int, float]]:
    """(label, data-value, width on screen) of a chart's bars."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' rect.bar')].map(r => "
        "[r.dataset.label, Number(r.dataset.value), r.getBoundingClientRect().width])",
        f"#{chart_id}",
    )


@pytest.mark.slow
def test_report_renders_offline_in_chromium_with_the_manifest_counts(crawl, tmp_path):
    from selenium.webdriver.common.by import By

    manifest = json.loads((crawl.folder / "manifest.json").read_text("utf-8"))
    stats = crawl.stats
    driver = _driver(tmp_path / "profile")
    try:
        driver.get((crawl.folder / REPORT_FILE).as_uri())
        assert driver.title.startswith("Crawl report: rferl")
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        summary = {
            cell.get_attribute("data-key"): int(cell.text.replace(",", ""))
            for cell in driver.find_elements(By.CSS_SELECTOR, "#summary td[data-key]")
        }
        sites = _bars(driver, "chart-sites")
        days = _bars(driver, "chart-days")
        outcomes = _bars(driver, "chart-outcomes")
        chart = driver.find_element(By.ID, "chart-sites")
        chart_size = chart.size
        warcs = [
            (
                row.find_element(By.TAG_NAME, "a").text,
                int(row.find_elements(By.TAG_NAME, "td")[1].text.replace(",", "")),
            )
            for row in driver.find_elements(By.CSS_SELECTOR, "#warcs tr.warc")
        ]
        errors = {
            group.get_attribute("data-reason"): int(group.get_attribute("data-value"))
            for group in driver.find_elements(By.CSS_SELECTOR, "details.error-group")
        }
        error_urls = driver.find_elements(By.CSS_SELECTOR, "details.error-group li code")
        rows = driver.find_elements(By.CSS_SELECTOR, "#articles tr.article")
        records = [
            (link.text, int(link.get_attribute("data-offset")))
            for link in driver.find_elements(By.CSS_SELECTOR, "#articles a.warc-record")
        ]
        # Each article's title links to its text, which is on the page.
        first = rows[0].find_element(By.CSS_SELECTOR, "a[href^='#text-']")
        target = first.get_attribute("href").split("#", 1)[1]
        text = driver.find_element(By.ID, target).text
        selfcheck = driver.find_element(By.ID, "selfcheck").get_attribute("data-passed")
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report.png"))
    finally:
        driver.quit()

    assert fetched == [], f"the report fetched {fetched}"
    # The charts rendered: a drawn SVG, one bar per site, each with a width on screen.
    assert chart_size["width"] > 300 and chart_size["height"] > 20
    per_site = Counter(item["site"] for item in crawl.items)
    assert {label: value for label, value, _ in sites} == dict(per_site)
    assert all(width > 0 for _, _, width in sites + days + outcomes)
    assert sum(value for _, value, _ in days) == len(crawl.items)  # every item has a date here
    # The counts shown are the manifest's.
    counts = manifest["counts"]
    assert summary["items"] == manifest["items"]["count"] == len(crawl.items)
    for key in ("new", "changed", "unchanged", "known_skipped", "failed"):
        assert summary[key] == counts[key], key
    assert summary["response_records"] == counts["response_records"]
    assert summary["revisit_records"] == counts["revisit_records"]
    assert summary["warc_files"] == len(manifest["warcs"])
    assert summary["warc_bytes"] == sum(w["size"] for w in manifest["warcs"])
    assert warcs == [(w["file"], w["size"]) for w in manifest["warcs"]]
    assert summary["requested"] == stats["newsarchive/accounting/requested"]
    assert sum(value for _, value, _ in outcomes) == stats["newsarchive/accounting/requested"]
    assert sum(errors.values()) == counts["failed"] == len(error_urls)
    assert summary["notices"] == sum(
        v for k, v in stats.items() if k.startswith("newsarchive/extract/notice/")
    )
    # Every article is listed, with its WARC record (file and offset) and its text.
    assert len(rows) == len(crawl.items)
    assert records == [(i["warc"]["filename"], i["warc"]["offset"]) for i in crawl.items]
    number = int(target.split("-")[1])
    item = crawl.items[number - 1]
    assert item["text"].split("\n\n")[0] in text
    assert selfcheck == "true"
