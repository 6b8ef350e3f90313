"""Scheduled ``news`` runs: article keys for any site, incremental runs, versions, kills.

Every crawl is the real ``scrapy crawl news`` against a COPY of ``tests/news_site`` (so pages can
be edited between runs) through the web double, sharing one output folder and its state store,
as a cron job would. The kill tests reuse ``tests/test_kill.py``'s helpers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.discovery.urlkey import article_key, normalize_url, url_key
from newsarchive.state.freshness import item_digest
from newsarchive.state.schema import SCHEMA_VERSION
from newsarchive.state.store import StateStore
from newsarchive.webdouble import WebDouble
from tests.conftest import REPO
from tests.crawl_helpers import proxy_vars, run_crawl
from tests.test_incremental import IDENTICAL_PROFILE, records
from tests.test_kill import item_lines, read_items, wait_for, warcio_check

SITE = REPO / "tests" / "news_site"
GAZETTE = "www.valley-gazette.test"
HARBOUR = "news.harbourwatch.test"
CHANGED = f"https://{GAZETTE}/2025/05/22/school-bus-routes/"
CHANGED_PAGE = f"{GAZETTE}/2025/05/22/school-bus-routes/index.html"
ADDED_PARAGRAPH = "Update: the transport office said the new timetable starts on Monday."
NEW_STORY = f"https://{HARBOUR}/stories/slipway-closed.html"


def expected_urls(*hosts: str) -> set[str]:
    data = json.loads((SITE / "EXPECTED.json").read_text("utf-8"))
    return {a["url"] for a in data["articles"] if any(h in a["url"] for h in hosts)}


def sites_file(folder: Path) -> Path:
    """Both sample sites: the WordPress-like one whole, the link-following one two hops deep."""
    path = folder / "sites.toml"
    path.write_text(
        f'[[site]]\nurl = "https://{GAZETTE}"\n\n'
        f'[[site]]\nurl = "https://{HARBOUR}"\ndepth = 2\ndeny = ["/about"]\n',
        "utf-8",
    )
    return path


def article_gets(result) -> list[dict]:
    """GETs of article pages (either site), not of discovery or section pages."""
    return [
        r
        for r in result.requests
        if r["method"] == "GET" and (r["path"].startswith(("/20", "/stories/")))
    ]


# -- the key ------------------------------------------------------------------------------------


def test_one_key_for_every_spelling_of_an_article_url():
    spellings = [
        f"https://{GAZETTE}/2025/05/21/market-hall-reopens/",
        f"http://{GAZETTE}/2025/05/21/market-hall-reopens/",
        "HTTPS://VALLEY-GAZETTE.test:443/2025/05/21/market-hall-reopens/#comments",
        f"https://{GAZETTE}/2025/05/21/market-hall-reopens/?utm_source=rss&utm_medium=rss",
        f"https://{GAZETTE}/2025/05/21/market-hall-reopens/?fbclid=abc",
    ]
    keys = {article_key(url) for url in spellings}
    assert len(keys) == 1
    (key,) = keys
    assert key == url_key(spellings[0]) and key.startswith("url:") and len(key) == 44
    # Query order does not matter; query content, path and port do.
    assert url_key("https://a.example/x?b=2&a=1") == url_key("https://a.example/x?a=1&b=2")
    distinct = [
        "https://a.example/x?a=1",
        "https://a.example/x?a=2",
        "https://a.example/x",
        "https://a.example/x/",
        "https://a.example/X",
        "https://a.example:8443/x",
        "https://b.example/x",
    ]
    assert len({url_key(u) for u in distinct}) == len(distinct)
    assert normalize_url("http://www.A.example:80/p?z=1&utm_campaign=c&a=%7e#f") == (
        "https://a.example/p?a=~&z=1"
    )


def test_pangea_articles_keep_their_numeric_id():
    url = "https://www.rferl.org/a/some-story/33423580.html"
    assert article_key(url) == "33423580"
    assert article_key(url + "?utm_source=x#top") == "33423580"  # as rferl's discovery sees it
    assert article_key("https://www.svoboda.org/a/33423580.html") == "33423580"  # cross-service
    assert article_key("https://example.org/any/page", "33423580") == "33423580"  # from the page
    assert article_key("https://www.rferl.org/z/1234.html").startswith("url:")  # a section


def test_schema_1_state_file_opens_keeps_its_rows_and_asks_for_a_backfill(tmp_path):
    path = tmp_path / "state.sqlite"
    old = sqlite3.connect(path)  # what an earlier release left: no aliases table, schema 1
    old.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO meta VALUES ('schema_version', '1');"
        "CREATE TABLE articles (article_id TEXT PRIMARY KEY, url TEXT, canonical_url TEXT,"
        " published TEXT, last_fetch TEXT, etag TEXT, last_modified TEXT, payload_digest TEXT,"
        " item_digest TEXT, version INTEGER NOT NULL DEFAULT 0, record_uri TEXT, record_date TEXT,"
        " record_id TEXT, record_file TEXT, record_offset INTEGER, record_length INTEGER,"
        " record_run TEXT, updated_run TEXT);"
        "INSERT INTO articles(article_id, url, item_digest, version, last_fetch) VALUES"
        " ('33423580', 'https://www.rferl.org/a/x/33423580.html', 'sha256:ab', 2,"
        " '2025-05-25T09:00:00+00:00');"
    )
    old.commit()
    old.close()
    store = StateStore(path)
    assert store.found_schema == 1 and store.needs_backfill()
    known = store.article("33423580")
    assert known is not None and (known.version, known.item_digest) == (2, "sha256:ab")
    store.add_alias("url:feed-spelling", "33423580")
    assert store.article("url:feed-spelling") == known
    store.mark_backfilled()
    store.close()
    again = StateStore(path)
    assert again.found_schema == SCHEMA_VERSION and not again.needs_backfill()
    assert again.article("url:feed-spelling") == known  # aliases persist
    again.close()
    fresh = StateStore(tmp_path / "new.sqlite")
    assert fresh.found_schema is None and not fresh.needs_backfill()
    fresh.close()


# -- scheduled runs -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Five runs over one output: first, unchanged, one page changed, a new story behind a
    section page, full=1."""
    site = tmp_path_factory.mktemp("site") / "site"
    shutil.copytree(SITE, site)
    output = tmp_path_factory.mktemp("out")
    args = ("-a", f"sites_file={sites_file(output)}")
    results = {}
    with WebDouble(site) as double:
        print(f"webdouble listening on {double.proxy_url}")
        results["first"] = run_crawl(double, output, *args, spider="news", run_id="r1")
        results["second"] = run_crawl(double, output, *args, spider="news", run_id="r2")
        page = site / CHANGED_PAGE
        html = page.read_text("utf-8")
        anchor = '<div class="entry-content">'
        assert anchor in html
        page.write_text(html.replace(anchor, f"{anchor}\n<p>{ADDED_PARAGRAPH}</p>", 1), "utf-8")
        sitemap = site / GAZETTE / "post-sitemap.xml"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        text = sitemap.read_text("utf-8")
        old_lastmod = "<lastmod>2025-05-22T14:40:00+00:00</lastmod>"
        assert old_lastmod in text
        sitemap.write_text(text.replace(old_lastmod, f"<lastmod>{now}</lastmod>"), "utf-8")
        results["third"] = run_crawl(double, output, *args, spider="news", run_id="r3")
        # A new story, linked only from a section page that the first run already read.
        stories = site / HARBOUR / "stories"
        story = (stories / "crane-delivery.html").read_text("utf-8")
        (stories / "slipway-closed.html").write_text(
            story.replace("Crane", "Slipway").replace("crane", "slipway"), "utf-8"
        )
        port = site / HARBOUR / "sections" / "port.html"
        port.write_text(
            port.read_text("utf-8").replace(
                "</ul>", '<li><a href="/stories/slipway-closed.html">Slipway closed</a></li></ul>'
            ),
            "utf-8",
        )
        results["fourth"] = run_crawl(double, output, *args, spider="news", run_id="r4")
        results["full"] = run_crawl(double, output, *args, "-a", "full=1", spider="news",
                                    run_id="r5")  # fmt: skip
    for name, result in results.items():
        assert result.returncode == 0, (name, result.stdout[-2000:], result.log[-3000:])
    return results


@pytest.mark.slow
def test_first_run_keys_and_versions_every_article(runs):
    items = runs["first"].items
    want = expected_urls(GAZETTE, HARBOUR) - {f"https://{HARBOUR}/stories/pier-repairs.html"}
    assert {i["url"] for i in items} == want  # pier-repairs is three hops away
    assert len(items) == len(want)
    for item in items:
        assert item["article_id"] is None
        assert item["article_key"] == url_key(item["url"])
        assert (item["version"], item["previous_digest"]) == (1, None)


@pytest.mark.slow
def test_unchanged_second_run_fetches_no_article_and_writes_no_item(runs):
    second = runs["second"]
    assert second.items == []
    assert article_gets(second) == []
    stats = second.stats
    # The 9 articles and /about/ (listed in page-sitemap, not an article) are known; the
    # section page is re-read for its links.
    assert stats["newsarchive/discovery/known_skipped"] == 10
    assert stats["newsarchive/discovery/hub_reread"] == 1
    assert stats.get("newsarchive/dedupe/new", 0) == 0
    assert (HARBOUR, "/sections/port.html") in [
        (r["host"], r["path"]) for r in second.requests if r["method"] == "GET"
    ]
    # Everything archived again (discovery, home pages, the section page) is a revisit of
    # the first run's records: no second copy of anything.
    assert not [k for k, _, _ in records(second.folder) if k == "response"]
    first_ids = {h.get_header("WARC-Record-ID") for _, _, h in records(runs["first"].folder)}
    revisits = [h for kind, _, h in records(second.folder) if kind == "revisit"]
    assert revisits
    for headers in revisits:
        assert headers.get_header("WARC-Profile") == IDENTICAL_PROFILE
        assert headers.get_header("WARC-Refers-To") in first_ids
    assert "0 new, 0 changed" in second.stdout


@pytest.mark.slow
def test_changed_page_yields_exactly_one_item_version_2(runs):
    third = runs["third"]
    assert len(third.items) == 1
    (item,) = third.items
    assert item["url"] == CHANGED
    assert item["version"] == 2
    assert ADDED_PARAGRAPH in item["text"]
    before = next(i for i in runs["first"].items if i["url"] == CHANGED)
    assert item["article_key"] == before["article_key"]
    assert item["previous_digest"] == item_digest(before) != item_digest(item)
    # Known, so asked conditionally; changed, so answered in full and archived in full.
    gets = article_gets(third)
    assert [g["path"] for g in gets] == ["/2025/05/22/school-bus-routes/"]
    assert gets[0]["headers"].get("if-none-match") and gets[0]["status"] == 200
    responses = [uri for kind, uri, _ in records(third.folder) if kind == "response"]
    assert CHANGED in responses
    assert third.stats["newsarchive/dedupe/changed"] == 1
    assert third.stats["newsarchive/conditional/requests"] == 1


@pytest.mark.slow
def test_new_story_behind_a_known_section_page_is_found(runs):
    fourth = runs["fourth"]
    assert [(i["url"], i["version"]) for i in fourth.items] == [(NEW_STORY, 1)]
    assert [g["path"] for g in article_gets(fourth)] == ["/stories/slipway-closed.html"]


@pytest.mark.slow
def test_full_recrawl_fetches_everything_and_writes_nothing_unchanged(runs):
    full = runs["full"]
    assert full.items == []
    gets = article_gets(full)
    assert len(gets) == 10  # the first run's 9 articles and run 4's new story
    assert not any(g["headers"].get("if-none-match") for g in gets)
    assert full.stats["newsarchive/dedupe/unchanged"] == 10


@pytest.mark.slow
def test_state_file_from_before_article_keys_is_backfilled_once(webdouble_factory, tmp_path):
    """What an upgrade meets: items.jsonl lines without ``article_key`` and a schema-1 state
    file that never settled a ``news`` article. The next run emits nothing again."""
    double = webdouble_factory(SITE)
    args = ("-a", f"site=https://{GAZETTE}")
    first = run_crawl(double, tmp_path, *args, spider="news", run_id="old")
    assert first.returncode == 0, first.stdout[-2000:]
    assert len(first.items) == 5
    lines = first.folder / "items.jsonl"
    old_items = []
    for item in first.items:  # as the release before article keys wrote them
        del item["article_key"]
        item["version"] = None
        old_items.append(json.dumps(item) + "\n")
    lines.write_text("".join(old_items), "utf-8")
    db = sqlite3.connect(tmp_path / "news" / "state.sqlite")
    with db:
        db.execute("DELETE FROM articles")
        db.execute("DROP TABLE aliases")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.close()

    upgraded = run_crawl(double, tmp_path, *args, spider="news", run_id="upgraded")
    assert upgraded.returncode == 0, upgraded.stdout[-2000:]
    assert upgraded.items == []
    assert upgraded.stats["newsarchive/state/backfilled_items"] == 5
    assert [r for r in upgraded.requests if r["path"].startswith("/20")] == []
    again = run_crawl(double, tmp_path, *args, spider="news", run_id="again")
    assert again.items == [] and "newsarchive/state/backfilled_items" not in again.stats


@pytest.mark.slow
def test_redirected_listing_is_known_next_run_through_its_alias(webdouble_factory, tmp_path):
    """A sitemap lists a short link that redirects to the article: the item is keyed by the
    page it landed on, the listed key becomes an alias, and the next run skips it."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    final = f"https://{GAZETTE}/2023/01/10/winter-salt-stock/"
    sitemap = site / GAZETTE / "post-sitemap2.xml"
    sitemap.write_text(sitemap.read_text("utf-8").replace(final, f"https://{GAZETTE}/go/winter"))
    (site / GAZETTE / "go").mkdir()
    (site / GAZETTE / "go" / "winter.headers.json").write_text(
        json.dumps({"status": 301, "headers": {"Location": final}}), "utf-8"
    )
    double = webdouble_factory(site)
    args = ("-a", f"site=https://{GAZETTE}")
    first = run_crawl(double, tmp_path / "out", *args, spider="news", run_id="r1")
    assert first.returncode == 0, first.stdout[-2000:]
    winter = next(i for i in first.items if i["url"] == final)
    assert winter["article_key"] == url_key(final) != url_key(f"https://{GAZETTE}/go/winter")
    assert len(first.items) == 5
    second = run_crawl(double, tmp_path / "out", *args, spider="news", run_id="r2")
    assert second.returncode == 0, second.stdout[-2000:]
    assert second.items == []
    gets = [r["path"] for r in second.requests if r["method"] == "GET"]
    assert "/go/winter" not in gets and "/2023/01/10/winter-salt-stock/" not in gets


# -- killed at any moment ------------------------------------------------------------------------

#: Article pages answer this slowly, so the crawl is still archiving when it is killed.
ARTICLE_DELAY = 0.4
KILL_ARGS = ("-a", f"site=https://{GAZETTE}")


def start_news_crawl(double: WebDouble, output: Path, run_id: str) -> subprocess.Popen:
    """``scrapy crawl news`` in the background (``tests/test_kill.py``'s, for this spider)."""
    output.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", *KILL_ARGS,
           "-s", f"NEWSARCHIVE_OUTPUT={output}", "-s", f"NEWSARCHIVE_RUN_ID={run_id}",
           "-s", "AUTOTHROTTLE_START_DELAY=0.01", "-s", "AUTOTHROTTLE_MAX_DELAY=0.5",
           "-s", f"LOG_FILE={output / (run_id + '.log')}"]  # fmt: skip
    env = {**os.environ, **proxy_vars(double.proxy_url)}
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def full_article_responses(folder: Path) -> Counter:
    """Article URL -> number of full ``response`` records (HTTP 200) in the folder's WARCs."""
    counts: Counter = Counter()
    for path in sorted(folder.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or record.http_headers.get_statuscode() != "200":
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI")
                if "/20" in uri:
                    counts[uri] += 1
    return counts


def gazette_article_gets(double: WebDouble) -> int:
    return sum(1 for r in double.requests() if r["method"] == "GET" and r["path"].startswith("/20"))


KILL_POINTS = {
    "mid-archive": lambda double, folder: gazette_article_gets(double) >= 2,
    "mid-items": lambda double, folder: item_lines(folder) >= 2,
}


@pytest.mark.slow
@pytest.mark.parametrize("moment", list(KILL_POINTS))
def test_sigkill_then_next_run_completes_exactly_once(moment, tmp_path):
    with WebDouble(SITE, delay=ARTICLE_DELAY, delay_paths="/20*") as double:
        print(f"webdouble listening on {double.proxy_url}")
        killed = tmp_path / "news" / "killed"
        proc = start_news_crawl(double, tmp_path, "killed")
        log = tmp_path / "killed.log"
        wait_for(lambda: KILL_POINTS[moment](double, killed), proc, moment, log)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        before = read_items(killed)
        assert len(before) < 5  # killed before the end, or the test proves nothing
        result = run_crawl(double, tmp_path, *KILL_ARGS, spider="news", run_id="next")
    assert result.returncode == 0, result.stdout[-2000:] + result.log[-4000:]

    want = sorted(expected_urls(GAZETTE))
    items = before + result.items
    assert sorted(item["url"] for item in items) == want  # every article exactly once
    assert {item["version"] for item in items} == {1}
    assert len({item["article_key"] for item in items}) == len(want)
    responses = full_article_responses(killed) + full_article_responses(result.folder)
    assert dict(responses) == dict.fromkeys(want, 1)  # one full copy, earlier or later
    warcio_check(killed)
    warcio_check(result.folder)
    manifest = json.loads((result.folder / "manifest.json").read_text("utf-8"))
    assert [r["run_id"] for r in manifest["recovered_runs"]] == ["killed"]


# -- reextract ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "site_args", [(f"site=https://{GAZETTE}",), (f"site=https://{HARBOUR}", "depth=2")]
)
def test_reextract_gives_news_items_their_discovery_hints_back(
    webdouble_factory, tmp_path, site_args
):
    """Sitemap and feed hints are matched by article key, and a page found by following a link
    gets the page it was found on from its archived request's ``Referer``, so a rebuilt ``news``
    item equals the crawled one: news-sitemap publication, ``discovered_from``, the key."""
    double = webdouble_factory(SITE)
    arguments = [word for arg in site_args for word in ("-a", arg)]
    crawl = run_crawl(double, tmp_path, *arguments, spider="news")
    assert crawl.returncode == 0, crawl.stdout[-2000:]
    new = tmp_path / "new.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "reextract", str(crawl.folder), "-O", str(new),
         "--workers", "2", "--diff", str(crawl.folder / "items.jsonl")],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rebuilt = {item["url"]: item for item in read_items_file(new)}
    live = {item["url"]: item for item in crawl.items}
    assert sorted(rebuilt) == sorted(live)
    for url, want in live.items():
        for name, value in rebuilt[url].items():
            if name not in ("version", "previous_digest"):  # cross-run state, not in a WARC
                assert value == want[name], f"{url}: {name}"
    if GAZETTE in site_args[0]:
        assert live[f"https://{GAZETTE}/2025/05/20/flood-barrier-vote/"]["publication"]
        library = rebuilt[f"https://{GAZETTE}/2025/05/23/library-night/"]
        assert library["discovered_from"] == f"https://{GAZETTE}/feed/"
    else:  # two hops of links: home page → section page → story
        fish = rebuilt[f"https://{HARBOUR}/stories/fish-market-hours.html"]
        assert fish["discovered_from"] == f"https://{HARBOUR}/sections/port.html"
    assert f"0 changed, {len(live)} unchanged" in proc.stdout


def read_items_file(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
