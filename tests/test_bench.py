"""The throughput benchmark's own parts: the mirror of corpus pages and the target ratios."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import mirror
from bench.throughput import Row, targets
from newsarchive.webdouble import WebDouble


def test_mirror_pages_are_distinct_corpus_pages_served_under_rferl_and_localhost(
    corpora: Path, tmp_path: Path, webdouble_factory: Callable[..., WebDouble]
) -> None:
    site = mirror.build(tmp_path / "mirror", 200, corpora)
    corpus = site.corpus_pages
    assert len(corpus) >= 170  # 88 benchmark + 89 fundus + 3 Pangea pages
    assert len(site.urls) == len(set(site.urls)) == 200
    sitemap = (tmp_path / "mirror" / mirror.HOST / "sitemap_8_latest.xml").read_text()
    assert all(f"<loc>{u}</loc>" in sitemap for u in site.urls)
    bodies = [(tmp_path / "mirror" / mirror.HOST / "a" / u.rsplit("/", 1)[1]) for u in site.urls]
    encoded = [b.read_bytes() for b in bodies]
    payloads = [gzip.decompress(b) for b in encoded]  # served gzip-encoded, as RFE/RL does
    assert len(set(payloads)) == 200  # no two identical payloads: no cheap WARC revisits
    assert payloads[0].startswith(corpus[0][1]) and payloads[len(corpus)].startswith(corpus[0][1])
    double = webdouble_factory(site.root)
    url = site.plain_urls(double.port)[7]
    host, path = url.removeprefix("http://").split("/", 1)
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=10)
    try:
        conn.request("GET", f"/{path}", headers={"Host": host})
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Encoding") == "gzip"
        assert response.read() == encoded[7]
    finally:
        conn.close()


def _row(name: str, pages: int, seconds: float, cpu: float, rss: float = 100.0) -> Row:
    return Row(name, pages, pages, seconds, cpu, None, 0.1, rss)


def test_targets_compare_rows_of_one_run() -> None:
    rows = {
        "full": _row("full", 1000, 10.0, 30.0),
        "trafilatura-cli": _row("cli", 1000, 20.0, 40.0),
        "extract": _row("ours", 100, 2.0, 2.0),
        "trafilatura": _row("theirs", 100, 4.0, 4.0),
        "no-extraction": _row("off", 1000, 5.0, 8.0),
        "bare": _row("bare", 1000, 4.0, 4.0),
        "reextract": _row("again", 1000, 20.0, 38.0),
    }
    found = {what: (ratio, limit) for what, ratio, limit in targets(rows, 2, None)}
    assert found["full crawl pages/s / trafilatura CLI"] == (2.0, 1.5)
    assert found["extract() CPU / bare_extraction CPU"] == (0.5, -0.7)
    assert found["no-extraction crawl CPU/page / bare spider"] == (2.0, -1.6)
    # 2 cores at 20 ms/page could do 100 pages/s; reextract did 50
    assert found["reextract pages/s / (cores / extract() cost)"][0] == 0.5
    big = _row("big", 10000, 100.0, 300.0, rss=130.0)
    scaled = {what: ratio for what, ratio, _ in targets(rows, 2, big)}
    assert scaled["peak RSS at 10000 / at 1000 pages"] == 1.3


@pytest.mark.slow
def _bench_script(corpora: Path, script: str, *args: str) -> dict:
    """The JSON line a ``bench/`` script prints last, run on ``corpora``."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parent.parent / "bench" / script), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NEWSARCHIVE_CORPORA": str(corpora)},
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_both_extractors_are_measured_in_one_process_on_every_corpus_page(corpora: Path) -> None:
    found = _bench_script(corpora, "extract_alone.py", "both", "--repeat", "1")
    assert found["pages"] == len(mirror.corpus_pages(corpora))
    assert set(found["ms_per_page"]) == {"newsarchive", "trafilatura"}
    assert all(ms > 1 for ms in found["ms_per_page"].values())  # real extraction, not a no-op


def test_reextract_floor_judges_every_mirror_page_in_forked_workers(corpora: Path) -> None:
    found = _bench_script(corpora, "reextract_floor.py", "--pages", "24")
    assert found["pages"] == 24
    # the workers' CPU is the pages' extraction (milliseconds each), not a no-op fork
    assert found["cpu_ms_per_page"] > 1
    assert found["pages_per_s"] == pytest.approx(24 / found["seconds"])


def test_mirror_page_is_what_the_mirror_serves(corpora: Path, tmp_path: Path) -> None:
    site = mirror.build(tmp_path / "mirror", 3, corpora)
    pages = mirror.corpus_pages(corpora)
    for n, url in enumerate(site.urls):
        served = (tmp_path / "mirror" / mirror.HOST / "a" / url.rsplit("/", 1)[1]).read_bytes()
        assert mirror.mirror_page(pages, n) == (url, served)
        assert gzip.decompress(served).startswith(pages[n][1])
