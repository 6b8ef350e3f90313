"""End to end: the unmodified ``rferl`` spider crawls the sample site over loopback HTTPS.

One crawl (with ``since=`` so the 2012 archive slice, and the seed article, are included) is
shared by the tests of this module; a second, default crawl checks what ``since`` adds.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from protego import Protego
from warcio.archiveiterator import ArchiveIterator

from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import REPO, SAMPLE_ARGS, SAMPLE_HOSTS, load_expected, run_crawl

pytestmark = pytest.mark.slow

SEED = "https://www.rferl.org/a/russian_foreign_minister_lavrov_to_syria_on_diplomatic_mission/24475926.html"


@pytest.fixture(scope="module")
def expected(sample_site):
    return load_expected(sample_site)


@pytest.fixture(scope="module")
def crawl(sample_site, tmp_path_factory):
    double = WebDouble(sample_site).start()
    print(f"webdouble listening on {double.proxy_url}")
    try:
        result = run_crawl(
            double,
            tmp_path_factory.mktemp("out"),
            *SAMPLE_ARGS,
            run_id="full",
        )
    finally:
        double.stop()
    assert result.returncode == 0, result.stdout[-3000:] + result.log[-5000:]
    return result


@pytest.fixture(scope="module")
def by_id(crawl):
    return {item["article_id"]: item for item in crawl.items}


def test_one_item_per_article(crawl, expected):
    ids = [item["article_id"] for item in crawl.items]
    assert len(ids) == len(set(ids)), "an article was emitted twice"
    assert sorted(ids) == sorted(a["article_id"] for a in expected["articles"])


def test_fields_match_ground_truth(by_id, expected):
    for want in expected["articles"]:
        got = by_id[want["article_id"]]
        where = want["url"]
        assert got["title"] == want["title"], where
        assert got["authors"] == want["authors"], where
        assert got["published"] == want["published"], where
        assert got["language"].split("-")[0] == want["language"], where
        assert got["site"] == want["site"], where
        assert got["section"] == want["section"], where
        assert got["canonical_url"] == want["canonical_url"], where
        assert got["modified"] == want["modified"], where
        assert got["description"] == want["description"], where
        assert got["image"] == want["image"], where
        assert got["tags"] == want["tags"], where
        assert got["http_status"] == 200, where
        assert got["run_id"] == "full"
        assert got["extractor"]["name"] == "newsarchive"
        urls = {want["url"], *want.get("alternate_urls", [])}
        assert got["url"] in urls, where


def test_text_is_clean(by_id, expected):
    for want in expected["articles"]:
        text = by_id[want["article_id"]]["text"]
        where = want["url"]
        assert want["first_paragraph"] in text, where
        assert want["last_paragraph"] in text, where
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        assert len(paragraphs) >= want["paragraph_count"], where
        for caption in want["captions"]:
            assert text.count(caption) == 0, (where, caption)


def test_legal_notices(by_id, expected):
    for want in expected["articles"]:
        got = by_id[want["article_id"]]
        if want["notice"] is None:
            assert got["legal_notice"] is None, want["url"]
            assert got["legal_notices"] == [], want["url"]
            continue
        notice = got["legal_notice"]
        assert notice is not None, want["url"]
        assert got["legal_notices"] == [notice], want["url"]
        assert {k: notice[k] for k in ("kind", "language", "location")} == want["notice"]
        # The notice never leaks into the article text.
        for sentence in notice["text"].split("\n\n"):
            assert sentence[:60] not in got["text"], (want["url"], sentence)
    seed = by_id["24475926"]
    assert seed["url"] == SEED
    assert seed["legal_notice"]["text"].startswith(
        'RFE/RL has been declared an "undesirable organization" by the Russian government.'
    )
    assert "To find out more, click here." in seed["legal_notice"]["text"]
    assert "undesirable" not in seed["text"]


def test_nothing_disallowed_or_offsite_is_requested(crawl, expected, sample_site):
    hosts = set(SAMPLE_HOSTS.split(","))
    robots = {
        host: Protego.parse((sample_site / host / "robots.txt").read_text("utf-8"))
        for host in hosts
    }
    fetched = [r for r in crawl.requests if r["method"] in ("GET", "HEAD")]
    assert fetched
    for request in fetched:
        assert request["host"] in hosts, request
        url = f"https://{request['host']}{request['path']}"
        assert robots[request["host"]].can_fetch(url, "newsarchive"), url
    urls = {f"https://{r['host']}{r['path']}" for r in fetched}
    assert not urls & set(expected["disallowed"])
    assert crawl.stats.get("newsarchive/discovery/feed_disallowed", 0) >= 3


def test_each_article_fetched_once_and_redirect_followed(crawl, expected):
    paths = [r["path"] for r in crawl.requests if r["method"] == "GET"]
    for want in expected["articles"]:
        aid = want["article_id"]
        hits = [p for p in paths if p.endswith(f"/{aid}.html") and "/content/" not in p]
        assert len(hits) == 1, (aid, hits)
    for redirect in expected["redirects"]:
        assert urlsplit(redirect["from"]).path in paths


def test_non_articles_are_counted_not_emitted(crawl, expected):
    emitted = {item["url"] for item in crawl.items}
    fetched_non_articles = 0
    for page in expected["non_articles"]:
        assert page["url"] not in emitted
        if page["kind"] in ("video", "liveblog"):
            fetched_non_articles += 1
    counted = sum(
        v for k, v in crawl.stats.items() if k.startswith("newsarchive/extract/not_article/")
    )
    assert counted == fetched_non_articles
    assert crawl.stats.get("newsarchive/discovery/not_a_sitemap") == 1
    assert "pressroom.rferl.org/sitemap.xml" in crawl.log
    assert "not a sitemap" in crawl.log


def test_warcs_pass_warcio_check(crawl):
    assert crawl.warcs
    assert not list(crawl.folder.glob("*.open"))
    for path in crawl.warcs:
        check = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_every_exchange_is_archived(crawl):
    archived = set()
    kinds: dict[str, int] = {}
    for path in crawl.warcs:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                kinds[record.rec_type] = kinds.get(record.rec_type, 0) + 1
                if record.rec_type in ("response", "revisit"):
                    archived.add(record.rec_headers.get_header("WARC-Target-URI"))
    assert kinds["warcinfo"] == len(crawl.warcs)
    assert kinds["request"] == kinds["response"] + kinds.get("revisit", 0)
    assert kinds["metadata"] == len(crawl.items)
    fetched = {f"https://{r['host']}{r['path']}" for r in crawl.requests if r["method"] == "GET"}
    assert fetched <= archived


def test_provenance_resolves(crawl):
    for item in crawl.items:
        ref = item["warc"]
        with open(crawl.folder / ref["filename"], "rb") as fh:
            fh.seek(ref["offset"])
            chunk = fh.read(ref["length"])
        record = next(iter(ArchiveIterator(io.BytesIO(chunk))))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Record-ID") == ref["record_id"]
        assert record.rec_headers.get_header("WARC-Target-URI") == item["url"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == ref["payload_digest"]


def test_summary_is_printed(crawl):
    assert f"articles:        {len(crawl.items)}" in crawl.stdout
    assert "items.jsonl" in crawl.stdout
    # The two "not an article" numbers are named apart: the pages the extractor rejected, and
    # every archived response that is no article (robots.txt, sitemaps, feeds, those pages).
    assert "not articles:" not in crawl.stdout and " not articles +" not in crawl.stdout
    rejected = sum(v for k, v in crawl.stats.items() if k.startswith("newsarchive/extract/not_art"))
    assert f"rejected pages:  {rejected} (fetched as articles, not articles)" in crawl.stdout
    archived = crawl.stats["newsarchive/accounting/not_article"]
    assert f"+ {archived} non-articles archived +" in crawl.stdout
    assert archived > rejected


def test_pending_requests_wait_on_disk(crawl):
    """The disk-queue scheduler held every request (none unpicklable), and left no folder."""
    stats = crawl.stats
    assert stats["scheduler/enqueued"] > 20
    assert stats["scheduler/enqueued/disk"] == stats["scheduler/enqueued"]
    assert stats["scheduler/dequeued/disk"] == stats["scheduler/dequeued"]
    assert "scheduler/unserializable" not in stats


def test_components_off_by_default_are_not_warnings(crawl):
    """Replay and page requisites are off in a normal crawl: no WARNING says so."""
    disabled = [x for x in crawl.log.splitlines() if "WARNING: Disabled" in x]
    assert disabled == [], disabled
    assert "Replay off: NEWSARCHIVE_REPLAY is not set" in crawl.log  # at DEBUG
    assert (crawl.folder.parent / "latest").resolve() == crawl.folder.resolve()


def test_default_crawl_reads_only_news_and_latest(sample_site, expected, tmp_path):
    with WebDouble(sample_site) as double:
        result = run_crawl(double, tmp_path, "-a", "sites=www.rferl.org", run_id="default")
    assert result.returncode == 0, result.log[-3000:]
    want = {
        a["article_id"]
        for a in expected["articles"]
        if a["site"] == "www.rferl.org" and a["in_default_crawl"]
    }
    assert {item["article_id"] for item in result.items} == want
    paths = {r["path"] for r in result.requests}
    assert "/sitemap_8_2.xml.gz" not in paths
    assert "/sitemap_8_sections.xml.gz" not in paths
    assert all(r["host"] == "www.rferl.org" for r in result.requests)
    json.dumps(result.stats)


def test_sections_add_the_articles_linked_from_section_pages(sample_site, expected, tmp_path):
    """``-a sections=1``: ``_sections`` → home and ``/z/`` pages → the article links on them."""
    import re

    sections = ["/", "/z/644", "/z/17260"]  # what the fixture's _sections sitemap lists
    linked: dict[str, set[str]] = {}  # article path -> section pages linking it (read by regex)
    for section in sections:
        page = sample_site / "www.rferl.org" / (section.strip("/") or "index.html")
        for path in re.findall(r'href="(/a/[^"#?]+\.html)"', page.read_text("utf-8")):
            linked.setdefault(path, set()).add(f"https://www.rferl.org{section}")
    with WebDouble(sample_site) as double:
        result = run_crawl(
            double, tmp_path, "-a", "sites=www.rferl.org", "-a", "sections=1", run_id="sections"
        )
    assert result.returncode == 0, result.log[-3000:]
    rferl = [a for a in expected["articles"] if a["site"] == "www.rferl.org"]
    from_sections = {a["article_id"] for a in rferl if urlsplit(a["url"]).path in linked}
    default = {a["article_id"] for a in rferl if a["in_default_crawl"]}
    assert from_sections - default, "the fixture must link an article only sections reach"
    got = {item["article_id"]: item for item in result.items}
    assert set(got) == default | from_sections
    for aid in from_sections - default:  # found on a section page only
        item = got[aid]
        assert item["discovered_from"] in linked[urlsplit(item["url"]).path]
    paths = [r["path"] for r in result.requests if r["method"] == "GET"]
    for section in sections:
        assert paths.count(section) == 1, section
    assert "/sitemap_8_sections.xml.gz" in paths
    assert not [p for p in paths if p.startswith("/p/") or "?p=" in p]  # static, "load more"
    stats = result.stats
    assert stats["newsarchive/discovery/sections"] == len(sections)
    assert stats["newsarchive/accounting/not_article/section"] == len(sections)
    assert stats["newsarchive/accounting/unaccounted"] == 0
    # reextract finds where each article was found again (section pages through the Referer)
    rebuilt = tmp_path / "rebuilt.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "reextract", str(result.folder), "-O", str(rebuilt)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = {item["article_id"]: item for item in map(json.loads, rebuilt.read_text().splitlines())}
    assert {a: i["discovered_from"] for a, i in again.items()} == {
        a: i["discovered_from"] for a, i in got.items()
    }


def test_jsonl_lines_match_the_published_schema(crawl):
    import jsonschema

    from tests.test_docs import REPO

    schema = json.loads((REPO / "docs" / "item.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    lines = (crawl.folder / "items.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == len(crawl.items) > 0
    for line in lines:
        errors = list(validator.iter_errors(json.loads(line)))
        assert not errors, errors[0].message


def test_jsonl_loads_with_types_in_pandas(crawl):
    import pandas as pd

    frame = pd.read_json(crawl.folder / "items.jsonl", lines=True, dtype={"article_id": str})
    assert len(frame) == len(crawl.items)
    assert frame["http_status"].dtype.kind == "i"
    assert frame["article_id"].map(type).eq(str).all()
    published = pd.to_datetime(frame["published"], utc=True)
    assert published.notna().all()
    assert frame["authors"].map(lambda a: isinstance(a, list)).all()
    assert frame["warc"].map(lambda w: isinstance(w["offset"], int)).all()


def test_jsonl_loads_with_types_in_duckdb(crawl):
    import duckdb

    path = str(crawl.folder / "items.jsonl")
    con = duckdb.connect()
    rows = con.execute(
        "SELECT count(*), count(DISTINCT article_id), "
        "sum(len(authors)), max(warc.offset), "
        "count(*) FILTER (WHERE legal_notice.kind = 'undesirable-organization') "
        f"FROM read_json_auto('{path}')"
    ).fetchone()
    assert rows[0] == rows[1] == len(crawl.items)
    assert rows[2] == sum(len(i["authors"]) for i in crawl.items)
    assert rows[3] == max(i["warc"]["offset"] for i in crawl.items)
    notices = [
        i
        for i in crawl.items
        if (i["legal_notice"] or {}).get("kind") == "undesirable-organization"
    ]
    assert rows[4] == len(notices) > 0
    described = con.execute(f"DESCRIBE SELECT * FROM read_json_auto('{path}')").fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["http_status"] in ("BIGINT", "INTEGER", "UBIGINT")
    assert types["authors"].endswith("[]")


def test_feed_read_where_robots_allows_and_dash_o_still_works(sample_site, tmp_path):
    import shutil

    site = tmp_path / "site"
    shutil.copytree(sample_site / "www.rferl.org", site / "www.rferl.org")
    robots = site / "www.rferl.org" / "robots.txt"
    robots.write_text(
        "".join(
            line
            for line in robots.read_text().splitlines(keepends=True)
            if not line.startswith("Disallow: /api/")
        )
    )
    extra = tmp_path / "extra.jsonl"
    with WebDouble(site) as double:
        result = run_crawl(
            double,
            tmp_path / "out",
            "-a",
            "sites=www.rferl.org",
            "-O",
            str(extra),
            "-s",
            "NEWSARCHIVE_CONTACT=mailto:archive@example.org",
            run_id="feed",
        )
    assert result.returncode == 0, result.log[-3000:]
    assert [r["status"] for r in result.requests if r["path"] == "/api/"] == [200]
    agents = {a for r in result.requests for a in r["headers"].get("user-agent", [])}
    assert agents == {"newsarchive/0.1.0 (+mailto:archive@example.org; archival crawler)"}
    assert "newsarchive/discovery/feed_disallowed" not in result.stats
    assert "/api/" not in (result.folder / "errors.jsonl").read_text("utf-8")
    # -O writes the same items as the run folder's items.jsonl.
    again = [json.loads(line) for line in extra.read_text("utf-8").splitlines()]
    assert again == result.items and again


def test_errors_jsonl_holds_only_the_broken_sitemap(crawl):
    errors = [json.loads(line) for line in (crawl.folder / "errors.jsonl").read_text().splitlines()]
    assert [(e["url"], e["reason"]) for e in errors] == [
        ("https://pressroom.rferl.org/sitemap.xml", "not_a_sitemap")
    ]
    # The pressroom has no Pangea feed: a 404 there is counted, not an error.
    assert crawl.stats["newsarchive/discovery/not_found"] == 1
