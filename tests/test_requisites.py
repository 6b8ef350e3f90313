"""Page requisites (issue 15): found in HTML and CSS, scoped, archived once, revisits next run.

The crawl tests run the unmodified ``rferl`` spider over the sample site's www.rferl.org with
``-a requisites=1``, twice on one output (the second with ``-a full=1``, so the articles are
fetched again), and read what the web double served and what the WARCs and the WACZ hold.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections import Counter

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Headers, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from newsarchive.discovery.assethosts import RequisiteScope, denied_hosts, pangea_asset_hosts
from newsarchive.discovery.requisites import (
    choose_from_srcset,
    is_media_stream,
    page_requisites,
    stylesheet_requisites,
)
from newsarchive.discovery.services import rferl_services
from newsarchive.downloadermiddlewares.requisitebudget import (
    BUDGET_KEY,
    PageBudget,
    RequisiteBudgetMiddleware,
    RequisiteRefused,
)
from newsarchive.spidermiddlewares.requisites import RequisitesMiddleware
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import run_crawl

PAGE = "https://www.rferl.org/a/x/1.html"
SEED = (
    "https://www.rferl.org/a/"
    "russian_foreign_minister_lavrov_to_syria_on_diplomatic_mission/24475926.html"
)
LEAD = "https://gdb.rferl.org/8A3C1D52-6E0B-4F7A-9D21-3B5E8C0F4A17"
STYLE = "https://www.rferl.org/Content/responsive/RFE/en-US/style.css?av=0.1.0.0&cb=291"
FONT = "https://www.rferl.org/Content/responsive/RFE/fonts/pangea-sample.woff2"
BACKGROUND = "https://www.rferl.org/Content/responsive/RFE/img/header-bg.png"
LOGO = "https://www.rferl.org/Content/responsive/RFE/img/logo.svg"
ICON = "https://www.rferl.org/Content/responsive/RFE/img/webApp/favicon.svg"
ARGS = ("-a", "sites=www.rferl.org", "-a", "since=2012-01-01", "-a", "requisites=1")


# -- finding them --------------------------------------------------------------------------
def test_page_requisites_by_the_stated_rules():
    html = """<html><head>
    <link rel="stylesheet" href="/s.css"><link rel="alternate stylesheet" href="/alt.css">
    <link rel="shortcut icon" href="/favicon.ico"><link rel="apple-touch-icon" href="/t.png">
    <meta property="og:image" content="https://gdb.rferl.org/og.jpg">
    <style>h1 { background: url(bg.png) }</style>
    <script src="/app.js"></script></head><body>
    <img src="a_w250.jpg" srcset="a_w250.jpg 250w, a_w650.jpg 650w, a_w1200.jpg 1200w"
         sizes="(max-width: 991px) 100vw, 650px">
    <picture><source media="(max-width: 600px)" srcset="p_small.webp"><source
      type="image/jxl" srcset="p.jxl"><source srcset="p_1x.jpg 1x, p_2x.jpg 2x">
      <img src="p_fallback.jpg"></picture>
    <div style="background-image: url('/inline.png')"></div>
    <video poster="/poster.jpg" src="/v.mp4"><source src="/v.webm"></video>
    <a href="/next.html">next</a><img src="data:image/gif;base64,R0lGOD">
    <img src="/clip.m3u8"><iframe src="/embed/player/1.html"></iframe>
    </body></html>"""
    found = page_requisites(html, PAGE)
    assert [(r.url.rsplit("/", 1)[1], r.kind) for r in found] == [
        ("s.css", "stylesheet"),
        ("favicon.ico", "icon"),
        ("og.jpg", "image"),
        ("bg.png", "image"),
        ("a_w650.jpg", "image"),  # one size: what a 1280 px browser picks
        ("p_1x.jpg", "image"),
        ("inline.png", "image"),
    ]
    scripts = page_requisites(html, PAGE, scripts=True)
    assert ("https://www.rferl.org/app.js", "script") in [(r.url, r.kind) for r in scripts]


def test_srcset_choice_is_the_desktop_browsers():
    srcset = "s.jpg 320w, m.jpg 800w, l.jpg 1600w"
    assert choose_from_srcset(srcset) == "l.jpg"  # no sizes: the slot is the viewport (1280)
    assert choose_from_srcset(srcset, "(min-width: 1000px) 50vw, 100vw") == "m.jpg"
    assert choose_from_srcset(srcset, "300px") == "s.jpg"
    assert choose_from_srcset("a.jpg 100w, b.jpg 200w", "900px") == "b.jpg"  # widest there is
    assert choose_from_srcset("a.jpg, b.jpg 2x") == "a.jpg"
    assert choose_from_srcset("a.jpg 0.5x, b.jpg 3x") == "b.jpg"
    assert choose_from_srcset(" , ") is None


def test_stylesheet_imports_fonts_and_backgrounds():
    css = """@import "print.css"; @import url(theme.css);
    /* url(commented-out.png) */
    @font-face { src: url("../f/a.woff2") format("woff2"), url('../f/a.woff') format("woff"); }
    .x { background: #000 url(data:image/png;base64,AAA) } .y { background: url( bg.jpg ) }"""
    found = stylesheet_requisites(css, "https://h.test/css/site.css")
    assert [(r.url, r.kind) for r in found] == [
        ("https://h.test/css/print.css", "stylesheet"),
        ("https://h.test/css/theme.css", "stylesheet"),
        ("https://h.test/f/a.woff2", "font"),
        ("https://h.test/f/a.woff", "font"),
        ("https://h.test/css/bg.jpg", "image"),
    ]


def test_media_streams_are_never_requisites():
    assert is_media_stream("https://v.test/a/b_720p.mp4")
    assert is_media_stream("https://v.test/live/master.M3U8?token=1")
    assert not is_media_stream("https://v.test/a/poster.jpg")


def test_scope_page_host_asset_hosts_and_deny_list():
    scope = RequisiteScope(extra_hosts=("cdn.example.org",), deny=denied_hosts())
    assert scope.verdict("https://www.rferl.org/s.css", PAGE) is None
    assert scope.verdict("https://gdb.rferl.org/a.jpg", PAGE) is None  # Pangea asset host
    assert scope.verdict("https://gdb.svoboda.org/a.jpg", PAGE) == "requisite_offsite"
    assert (
        scope.verdict("https://gdb.svoboda.org/a.jpg", "https://www.svoboda.org/a/1.html") is None
    )
    assert scope.verdict("https://img.cdn.example.org/a.jpg", PAGE) is None  # the setting's
    tracker = "https://sb.scorecardresearch.com/p?c1=2"
    assert scope.verdict(tracker, PAGE) == "requisite_denied"
    assert (
        RequisiteScope(extra_hosts=("scorecardresearch.com",), deny=denied_hosts()).verdict(
            tracker, PAGE
        )
        == "requisite_denied"
    )  # deny wins over any setting


def test_pangea_asset_hosts_cover_every_service():
    assert set(pangea_asset_hosts()) == {s.host for s in rferl_services()}
    assert pangea_asset_hosts()["www.rferl.org"] == ("gdb.rferl.org",)


def test_settings_reach_the_scope_and_caps():
    crawler = get_crawler(
        settings_dict={
            "NEWSARCHIVE_REQUISITES_ENABLED": True,
            "NEWSARCHIVE_REQUISITES_HOSTS": "cdn.example.org,img.example.org",
            "NEWSARCHIVE_REQUISITES_DENY": ["ads.example.org"],
            "NEWSARCHIVE_REQUISITES_MAX_PER_PAGE": "7",
        }
    )
    config = RequisitesMiddleware.from_crawler(crawler).config
    assert config.scope.extra_hosts == ("cdn.example.org", "img.example.org")
    page = "https://www.example.org/a.html"
    assert config.scope.verdict("https://x.cdn.example.org/a.png", page) is None
    assert config.scope.verdict("https://ads.example.org/p.gif", page) == "requisite_denied"
    assert config.max_per_page == 7 and not config.scripts


def test_off_unless_asked():
    for component in (RequisitesMiddleware, RequisiteBudgetMiddleware):
        with pytest.raises(NotConfigured):
            component.from_crawler(get_crawler())
        assert component.from_crawler(
            get_crawler(settings_dict={"NEWSARCHIVE_REQUISITES_ENABLED": True})
        )


# -- a real crawl, twice -----------------------------------------------------------------------
def _records(folder) -> list[tuple[str, str, str]]:
    """``(WARC-Type, target URI, WARC-Refers-To-Target-URI)`` of every record of a run."""
    out = []
    for path in sorted(folder.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                headers = record.rec_headers
                out.append(
                    (
                        headers.get_header("WARC-Type"),
                        headers.get_header("WARC-Target-URI") or "",
                        headers.get_header("WARC-Refers-To-Target-URI") or "",
                    )
                )
    return out


@pytest.fixture(scope="module")
def crawls(sample_site, tmp_path_factory):
    output = tmp_path_factory.mktemp("requisites")
    with WebDouble(sample_site, gzip=True) as double:
        first = run_crawl(double, output, *ARGS, run_id="first")
        second = run_crawl(double, output, *ARGS, "-a", "full=1", run_id="second")
    for run in (first, second):
        assert run.returncode == 0, run.stdout[-3000:] + run.log[-3000:]
    return first, second


def _gets(run) -> Counter[str]:
    return Counter(f"https://{r['host']}{r['path']}" for r in run.requests if r["method"] == "GET")


def _requisite_urls(run) -> set[str]:
    """The URLs of the first run's requisites, as the WARC names them (role from the request's
    accounting: everything on gdb.rferl.org and under /Content/)."""
    return {
        url
        for kind, url, _ in _records(run.folder)
        if kind == "response"
        and ("gdb.rferl.org/" in url or "/Content/" in url)
        and not url.endswith("/robots.txt")
    }


def test_each_requisite_is_archived_once(crawls):
    first, _ = crawls
    requisites = _requisite_urls(first)
    assert {STYLE, FONT, BACKGROUND, LOGO, ICON, f"{LEAD}_w650_r1_s.jpg"} <= requisites
    assert f"{LEAD}_w1200_r1_s.jpg" in requisites  # og:image
    gets = _gets(first)
    assert all(gets[url] == 1 for url in requisites), {u: gets[u] for u in requisites}
    responses = Counter(url for kind, url, _ in _records(first.folder) if kind == "response")
    assert all(responses[url] == 1 for url in requisites)
    stats = first.stats
    assert stats["newsarchive/accounting/requisite"] == len(requisites)
    assert stats["newsarchive/accounting/requisite/font"] == 1
    assert stats["newsarchive/accounting/requisite/stylesheet"] == 1
    assert stats["newsarchive/accounting/requisite/icon"] == 1
    assert stats["newsarchive/accounting/unaccounted"] == 0
    assert stats["newsarchive/accounting/error"] == 0
    # 8 article pages share one stylesheet, logo and icon: each fetched once, the rest shared.
    assert stats["newsarchive/requisites/pages"] == 8
    assert stats["newsarchive/requisites/shared"] >= 7 * 3


def test_urls_jsonl_gives_each_requisite_its_own_line(crawls):
    first, _ = crawls
    lines = [
        json.loads(line) for line in (first.folder / "urls.jsonl").read_text("utf-8").splitlines()
    ]
    by_url = {line["url"]: line for line in lines}
    assert len(by_url) == len(lines)
    for url in _requisite_urls(first):
        line = by_url[url]
        assert line["outcome"] == "requisite" and line["status"] == 200, line
        assert line["warc"]["record_type"] == "response"
        assert line["discovered_from"] is not None
    assert by_url[FONT]["reason"] == "font" and by_url[STYLE]["reason"] == "stylesheet"
    tracker = [line for url, line in by_url.items() if "scorecardresearch" in url]
    assert [(t["outcome"], t["reason"]) for t in tracker] == [("not_requested", "requisite_denied")]


def test_trackers_streams_other_sizes_and_robots_disallowed_are_never_requested(crawls):
    first, _ = crawls
    for run in crawls:
        hosts = {r["host"] for r in run.requests}
        assert "sb.scorecardresearch.com" not in hosts
        assert "rfe-video-ns.akamaized.net" not in hosts  # the video page's <video src>
        gets = _gets(run)
        assert f"{LEAD}_w250_r1_s.jpg" not in gets  # srcset: one size, not the src as well
        assert not [url for url in gets if "/private/" in url]  # gdb's robots.txt says no
        assert gets["https://gdb.rferl.org/robots.txt"] == 1
    stats = first.stats
    assert stats["newsarchive/accounting/not_requested/requisite_denied"] == 1
    assert stats["newsarchive/accounting/skipped/robots_txt"] == 1


def test_second_run_stores_revisits(crawls):
    first, second = crawls
    requisites = _requisite_urls(first)
    records = _records(second.folder)
    revisits = {url for kind, url, _ in records if kind == "revisit"}
    assert requisites <= revisits
    assert not requisites & {url for kind, url, _ in records if kind == "response"}
    gets = _gets(second)
    assert all(gets[url] == 1 for url in requisites)  # once per run, in every run
    assert second.stats["newsarchive/accounting/requisite"] == len(requisites)


def test_index_and_wacz_hold_requisites_pages_only_articles(crawls):
    first, _ = crawls
    requisites = _requisite_urls(first)
    index = (first.folder / "indexes" / "index.cdxj").read_text("utf-8").splitlines()
    indexed = {json.loads(line.split(" ", 2)[2])["url"] for line in index}
    assert requisites <= indexed
    (wacz,) = first.folder.glob("*.wacz")
    with zipfile.ZipFile(wacz) as zf:
        lines = zf.read("pages/pages.jsonl").decode("utf-8").splitlines()
    pages = {json.loads(line).get("url") for line in lines[1:]}
    assert pages == {item["url"] for item in first.items}
    assert SEED in pages and not pages & requisites


def test_items_are_those_of_a_crawl_without_requisites(crawls, sample_site, tmp_path):
    first, _ = crawls
    with WebDouble(sample_site, gzip=True) as double:
        plain = run_crawl(double, tmp_path, *ARGS[:4], run_id="plain")
    assert plain.returncode == 0
    assert sorted(i["url"] for i in plain.items) == sorted(i["url"] for i in first.items)
    assert not [url for url in _gets(plain) if "gdb.rferl.org" in url or "/Content/" in url]
    assert not any(k.startswith("newsarchive/requisites/") for k in plain.stats)


def test_the_news_spider_takes_requisites_too(sample_site, tmp_path):
    """``news`` on a Pangea host: the same page requisites, the same scope."""
    with WebDouble(sample_site, gzip=True) as double:
        run = run_crawl(
            double,
            tmp_path,
            *("-a", "site=https://www.rferl.org", "-a", "requisites=1"),
            spider="news",
            run_id="news",
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.log[-3000:]
    gets = _gets(run)
    assert gets[STYLE] == 1 and gets[FONT] == 1 and gets[LOGO] == 1
    assert run.stats["newsarchive/requisites/pages"] >= 1
    assert run.stats["newsarchive/accounting/requisite"] >= 3
    assert "sb.scorecardresearch.com" not in {r["host"] for r in run.requests}


# -- the bounds --------------------------------------------------------------------------------
def _budget_middleware(**settings) -> RequisiteBudgetMiddleware:
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_REQUISITES_ENABLED": True, **settings})
    crawler.stats.open_spider()
    return RequisiteBudgetMiddleware.from_crawler(crawler)


def test_page_byte_budget_caps_each_download_and_stops_the_rest():
    middleware = _budget_middleware(NEWSARCHIVE_REQUISITES_MAXSIZE=5000)
    budget = PageBudget(PAGE, count_left=10, bytes_left=7000)
    first = Request("https://gdb.rferl.org/a.jpg", meta={BUDGET_KEY: budget})
    middleware.process_request(first)
    assert first.meta["download_maxsize"] == 5000  # the resource cap is the smaller
    middleware.process_response(first, Response(first.url, body=b"x" * 4000, request=first))
    second = Request("https://gdb.rferl.org/b.jpg", meta={BUDGET_KEY: budget})
    middleware.process_request(second)
    assert second.meta["download_maxsize"] == 3000  # what the page has left
    middleware.process_response(second, Response(second.url, body=b"x" * 3000, request=second))
    third = Request("https://gdb.rferl.org/c.jpg", meta={BUDGET_KEY: budget})
    with pytest.raises(RequisiteRefused) as refused:
        middleware.process_request(third)
    assert refused.value.reason == "requisite_page_maxsize"
    other = Request("https://www.rferl.org/a/2.html")  # not a requisite: untouched
    middleware.process_request(other)
    assert "download_maxsize" not in other.meta


def test_a_redirect_out_of_scope_or_to_a_tracker_is_refused():
    middleware = _budget_middleware()
    budget = PageBudget(PAGE, count_left=10, bytes_left=10**6)
    for url, reason in (
        ("https://sb.scorecardresearch.com/p.gif", "requisite_denied"),
        ("https://elsewhere.test/a.png", "requisite_offsite"),
    ):
        with pytest.raises(RequisiteRefused) as refused:
            middleware.process_request(Request(url, meta={BUDGET_KEY: budget}))
        assert refused.value.reason == reason


def test_an_audio_or_video_body_is_stopped_at_its_headers():
    middleware = _budget_middleware()
    request = Request("https://gdb.rferl.org/a.jpg", meta={BUDGET_KEY: PageBudget(PAGE, 1, 1)})
    middleware.headers_received(Headers({"Content-Type": "image/jpeg"}), 10, request, None)
    for kind in ("video/mp4", "audio/mpeg", "application/vnd.apple.mpegurl"):
        with pytest.raises(StopDownload):
            middleware.headers_received(Headers({"Content-Type": kind}), 10, request, None)
    page = Request(PAGE)  # not a requisite: never stopped here
    middleware.headers_received(Headers({"Content-Type": "video/mp4"}), 10, page, None)


@pytest.fixture(scope="module")
def hostile_assets(sample_site, tmp_path_factory):
    """The sample site plus, on the seed page, a 'picture' that answers as video/mp4 and one
    that redirects to the tracker."""
    site = tmp_path_factory.mktemp("site")
    for host in ("www.rferl.org", "gdb.rferl.org"):
        shutil.copytree(sample_site / host, site / host)
    img = site / "www.rferl.org/Content/responsive/RFE/img"
    (img / "teaser.gif").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000)
    (img / "teaser.gif.headers.json").write_text('{"headers": {"Content-Type": "video/mp4"}}')
    (img / "moved.png").write_bytes(b"")
    (img / "moved.png.headers.json").write_text(
        '{"status": 302, "headers": {"Location": "https://sb.scorecardresearch.com/p.gif"}}'
    )
    seed = site / "www.rferl.org" / SEED.removeprefix("https://www.rferl.org/")
    html = seed.read_text("utf-8").replace(
        "</body>",
        '<img src="/Content/responsive/RFE/img/teaser.gif" alt="" />\n'
        '<img src="/Content/responsive/RFE/img/moved.png" alt="" />\n</body>',
    )
    seed.write_text(html, "utf-8")
    return site


def test_caps_and_guards_in_a_crawl(hostile_assets, tmp_path):
    """5,000 bytes per resource: the _w650 and _w1200 pictures (7-9 KB) are left out."""
    with WebDouble(hostile_assets, gzip=True) as double:
        run = run_crawl(
            double, tmp_path, *ARGS, "-s", "NEWSARCHIVE_REQUISITES_MAXSIZE=5000", run_id="caps"
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.log[-3000:]
    stats = run.stats
    large = {
        f"https://gdb.rferl.org/{p.name}"
        for p in (hostile_assets / "gdb.rferl.org").glob("*_w[16]*.jpg")
        if p.stat().st_size > 5000
    }
    assert stats["newsarchive/accounting/skipped/requisite_too_large"] == len(large) > 0
    assert stats["newsarchive/accounting/skipped/requisite_media"] == 1
    assert stats["newsarchive/accounting/skipped/requisite_denied"] == 1  # the redirect
    assert stats["newsarchive/accounting/error"] == 0
    assert stats["newsarchive/accounting/unaccounted"] == 0
    assert "sb.scorecardresearch.com" not in {r["host"] for r in run.requests}
    archived = {url for kind, url, _ in _records(run.folder) if kind == "response"}
    assert not archived & large
    assert not [url for url in archived if "teaser.gif" in url]


def test_count_cap_per_page(sample_site, tmp_path):
    with WebDouble(sample_site, gzip=True) as double:
        run = run_crawl(
            double, tmp_path, *ARGS, "-s", "NEWSARCHIVE_REQUISITES_MAX_PER_PAGE=2", run_id="count"
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.log[-3000:]
    stats = run.stats
    requested = sum(
        v for k, v in stats.items() if k.startswith("newsarchive/requisites/requested/")
    )
    assert 0 < requested <= 2 * stats["newsarchive/requisites/pages"]
    assert stats["newsarchive/accounting/not_requested/requisite_over_count"] > 0
    assert stats["newsarchive/accounting/requisite"] == requested
