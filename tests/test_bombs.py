"""Bombs and limits: decompression bombs, entity tricks and huge sitemaps, with bounded memory.

One crawl of ``tests/hostile_site/www.sibreal.org`` through the double: the four real
decompression bombs of the corpora (read in place), a billion-laughs sitemap, an XXE sitemap
pointing at ``/etc/passwd``, a 200 MB sitemap and a sitemap of 100,000 article URLs, both
generated while streaming. The crawler runs in a subprocess of a small wrapper that reports its
peak RSS.

What the memory bound covers for the 100,000 article URLs: downloading and gunzipping the
sitemap, parsing all 100,000 entries, computing each one's article id, and the accounting's
per-URL bookkeeping (each URL is a discovered URL with a fate). Their ``lastmod`` lies before the
crawl's ``since`` window, so none is requested: the test stays fast, and the bound does not
cover 100,000 queued requests (Scrapy's scheduler and the downloader), only the discovery side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import REPO, proxy_vars

pytestmark = pytest.mark.slow

HOSTILE = Path(__file__).resolve().parent / "hostile_site"
HOST = "www.sibreal.org"
#: Peak resident memory allowed for the crawler process, in MiB. A crawl of the sample site
#: peaks near 150 MiB; the 200 MB sitemap may add at most one DOWNLOAD_MAXSIZE (64 MiB) buffer
#: plus its copy, and the 100,000 article URLs their entries and bookkeeping (measured: see
#: test_peak_rss_stays_bounded's output).
PEAK_RSS_LIMIT_MIB = 450
#: The crawl's ``since`` window, and the date of the 100,000 generated article URLs before it.
SINCE = "2000-01-01"
BULK_LASTMOD = "1999-12-31"
BULK_COUNT = 100_000
BOMBS = {"gzip": "gzip", "deflate": "deflate", "br": "br", "zstd": "zstd"}
RULES = [
    *(
        {
            "path": f"/a/bomb-{name}/*",
            "fault": {
                "kind": "corpus_file",
                "name": f"compression-edge-cases/bomb-{name}.bin",
                "content_encoding": coding,
            },
        }
        for name, coding in BOMBS.items()
    ),
    {"path": "/sitemap_5_1.xml*", "fault": {"kind": "huge_sitemap", "size": 200 * 1024 * 1024}},
    {
        "path": "/sitemap_5_2.xml*",
        "fault": {
            "kind": "many_urls_sitemap",
            "count": BULK_COUNT,
            "template": "https://{host}/a/bulk-story/3{n:06d}.html",
            "lastmod": BULK_LASTMOD,
        },
    },
]

_WRAPPER = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(proc.returncode)
"""


@pytest.fixture(scope="module")
def crawl(tmp_path_factory, corpora):
    output = tmp_path_factory.mktemp("out")
    double = WebDouble(HOSTILE, faults=RULES).start()
    double.faults.corpora = corpora
    print(f"webdouble listening on {double.proxy_url}")
    cmd = [
        sys.executable,
        "-c",
        _WRAPPER,
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "rferl",
        "-a",
        f"sites={HOST}",
        "-a",
        f"since={SINCE}",
        "-s",
        f"NEWSARCHIVE_OUTPUT={output}",
        "-s",
        "NEWSARCHIVE_RUN_ID=bombs",
        "-s",
        "AUTOTHROTTLE_START_DELAY=0.01",
        "-s",
        "RETRY_TIMES=0",
        "-s",
        f"LOG_FILE={output / 'bombs.log'}",
    ]
    try:
        proc = subprocess.run(
            cmd,
            cwd=REPO,
            env={**os.environ, **proxy_vars(double.proxy_url)},
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    finally:
        double.stop()
    folder = output / "rferl" / "bombs"
    return {
        "peak_mib": int(proc.stdout.strip().splitlines()[-1]) / 1024,
        "stats": json.loads((folder / "stats.json").read_text("utf-8")),
        "errors": [json.loads(x) for x in (folder / "errors.jsonl").read_text().splitlines()],
        "items": (folder / "items.jsonl").read_text("utf-8").splitlines(),
        "requests": double.requests(),
        "folder": folder,
        "log": (output / "bombs.log").read_text("utf-8", errors="replace"),
        "stdout": proc.stdout,
    }


def test_peak_rss_stays_bounded(crawl):
    print(f"crawler peak RSS: {crawl['peak_mib']:.0f} MiB")
    assert crawl["stats"]["finish_reason"] == "finished"
    assert crawl["peak_mib"] < PEAK_RSS_LIMIT_MIB


def test_every_bomb_is_refused_after_decompression_cap(crawl):
    by_url = {e["url"].split("/")[4]: e for e in crawl["errors"] if "/a/bomb-" in e["url"]}
    for name in BOMBS:
        line = by_url[f"bomb-{name}"]
        assert (line["phase"], line["reason"]) == ("fetch", "decompressed_too_large"), line
    served = [r for r in crawl["requests"] if "/a/bomb-" in r["path"]]
    assert len(served) == 4 and all(r["bytes"] < 30_000 for r in served)


def test_good_article_beside_the_bombs_survives(crawl):
    assert [json.loads(x)["article_id"] for x in crawl["items"]] == ["2000020"]


def test_huge_sitemap_is_cut_at_download_maxsize(crawl):
    line = next(e for e in crawl["errors"] if "sitemap_5_1" in e["url"])
    assert (line["phase"], line["reason"]) == ("discovery", "too_large")


def test_hundred_thousand_article_urls_are_read_and_accounted_for(crawl):
    stats = crawl["stats"]
    # Every generated URL is an article URL (id 3000000..3099999), kept apart by its date ...
    assert stats["newsarchive/discovery/urls"] >= BULK_COUNT
    assert stats.get("newsarchive/discovery/not_article_url", 0) < 10
    assert stats["newsarchive/discovery/before_since"] == BULK_COUNT
    # ... and each is a discovered URL with a fate, not a loose count.
    assert stats["newsarchive/accounting/not_requested/before_since"] == BULK_COUNT
    assert stats["newsarchive/accounting/discovered"] >= BULK_COUNT
    assert not any("/a/bulk-story/" in r["path"] for r in crawl["requests"])


def test_entity_bomb_is_refused_as_not_a_sitemap(crawl):
    line = next(e for e in crawl["errors"] if "sitemap_5_news" in e["url"])
    assert (line["reason"], "amplification" in line["detail"]) == ("not_a_sitemap", True)


def test_entities_are_never_expanded_or_resolved(crawl):
    text = "\n".join(
        p.read_text("utf-8", errors="replace") for p in crawl["folder"].glob("*.json*")
    )
    assert "lol" * 100 not in text and "lol" * 100 not in crawl["log"]
    assert "root:x:0" not in text and "root:x:0" not in crawl["log"]
    assert not any("xxe-root" in r["path"] or "lollol" in r["path"] for r in crawl["requests"])


def test_accounting_holds_under_bombs(crawl):
    stats = crawl["stats"]
    assert stats["newsarchive/accounting/unaccounted"] == 0
    assert stats["newsarchive/accounting/error"] == len(crawl["errors"])
    assert (
        stats["newsarchive/accounting/discovered"]
        == stats["newsarchive/accounting/requested"] + stats["newsarchive/accounting/not_requested"]
    )
