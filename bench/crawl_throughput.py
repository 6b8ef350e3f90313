"""Benchmark: a whole crawl with newsarchive's archive + extraction against the bare spider.

Builds a synthetic Pangea site of N article pages in a temp folder (copies of a sample-site
article with new ids, listed in a ``_latest`` sitemap), serves it with the web double, and runs
``scrapy crawl rferl`` twice in one go:

* baseline: the same spider with the newsarchive add-on switched off (``ADDONS={}``): Scrapy
  downloads and parses sitemaps and pages, nothing is archived or extracted;
* newsarchive: everything on (WARC, extraction, state, CDXJ, WACZ, self-check).

Prints pages/s, wall time, peak RSS of each crawl and the ratios (newsarchive / baseline).

    .venv/bin/python bench/crawl_throughput.py [--articles 400]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsarchive.webdouble import WebDouble  # noqa: E402 - after the path fix above

TEMPLATE = (
    REPO / "tests/site/www.rferl.org/a/kazakhstan-drought-wheat-harvest-farmers/33421815.html"
)


def build_site(root: Path, articles: int) -> None:
    host = root / "www.rferl.org"
    (host / "a").mkdir(parents=True)
    shutil.copy(REPO / "tests/site/www.rferl.org/robots.txt", host / "robots.txt")
    page = TEMPLATE.read_text("utf-8")
    urls = []
    for n in range(articles):
        aid = str(40000000 + n)
        (host / "a" / f"{aid}.html").write_text(page.replace("33421815", aid), "utf-8")
        urls.append(f"https://www.rferl.org/a/{aid}.html")
    entries = "".join(
        f"<url><loc>{u}</loc><lastmod>2025-05-25T10:00:00Z</lastmod></url>" for u in urls
    )
    ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    (host / "sitemap_8_latest.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{ns}">{entries}</urlset>'
    )
    (host / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{ns}">'
        "<sitemap><loc>https://www.rferl.org/sitemap_8_latest.xml.gz</loc></sitemap>"
        "</sitemapindex>"
    )


def crawl(proxy: str, output: Path, extra: list[str]) -> tuple[float, float]:
    env = {**os.environ, "http_proxy": proxy, "https_proxy": proxy, "no_proxy": ""}
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "rferl",
        "-a",
        "sites=www.rferl.org",
        "-a",
        "feeds=0",
        "-s",
        f"NEWSARCHIVE_OUTPUT={output}",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s",
        "LOG_LEVEL=ERROR",
        "-s",
        "NEWSARCHIVE_SUMMARY_ENABLED=False",
        *extra,
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed with status {proc.returncode}: {' '.join(cmd)}")
    return seconds, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        site = Path(tmp, "site")
        build_site(site, args.articles)
        with WebDouble(site) as double:
            base_s, base_rss = crawl(double.proxy_url, Path(tmp, "base"), ["-s", "ADDONS={}"])
            ours_s, ours_rss = crawl(double.proxy_url, Path(tmp, "ours"), [])
        latest = Path(tmp, "ours", "rferl", "latest", "items.jsonl")
        lines = len(latest.read_text("utf-8").splitlines())
    print(f"articles: {args.articles} (items written by newsarchive: {lines})")
    for name, seconds, rss in (("baseline", base_s, base_rss), ("newsarchive", ours_s, ours_rss)):
        print(
            f"{name:12s} {seconds:6.2f} s  {args.articles / seconds:7.1f} pages/s"
            f"  peak RSS {rss:6.0f} MiB"
        )
    print(
        f"ratio newsarchive/baseline: time {ours_s / base_s:.2f}x,"
        f" peak RSS {ours_rss / base_rss:.2f}x"
    )
    print(json.dumps({"baseline_s": base_s, "newsarchive_s": ours_s, "items": lines}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
