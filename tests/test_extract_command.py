"""``scrapy extract``: a file or a URL in, the pipeline's item out, nothing written."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from itemadapter import ItemAdapter

from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig
from newsarchive.extraction import extract
from newsarchive.items import FetchedPage
from newsarchive.pipelines.extract import build_item
from tests.conftest import REPO, SAMPLE_SITE
from tests.crawl_helpers import load_expected
from tests.webdouble_fixtures import proxy_env

ARTICLE = "https://www.rferl.org/a/kyrgyzstan-media-law-parliament-vote/33422970.html"


def scrapy_extract(*args: str, env: dict[str, str] | None = None, output: Path | None = None):
    cmd = [sys.executable, "-m", "scrapy", "extract", *args]
    if output is not None:
        cmd += ["-s", f"NEWSARCHIVE_OUTPUT={output}"]
    return subprocess.run(
        cmd,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def expected_article(url: str) -> dict:
    return next(a for a in load_expected(SAMPLE_SITE)["articles"] if a["url"] == url)


def sample_file(url: str) -> Path:
    host, _, path = url.removeprefix("https://").partition("/")
    return SAMPLE_SITE / host / path


def test_file_gives_the_pipeline_item(tmp_path):
    """A gzipped saved page, no --url: the address comes from its canonical link."""
    source = sample_file(ARTICLE)
    saved = tmp_path / "page.html.gz"
    saved.write_bytes(gzip.compress(source.read_bytes()))
    proc = scrapy_extract(str(saved), "--compact", output=tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    item = json.loads(proc.stdout)

    html = source.read_bytes()
    page = FetchedPage(url=ARTICLE, site="www.rferl.org", body=html, encoding="", http_status=0,
                       fetched_at="")  # fmt: skip
    built = ItemAdapter(build_item(page, extract(html, ARTICLE), None)).asdict()
    assert item == {**built, "http_status": None, "fetched_at": None}
    want = expected_article(ARTICLE)
    for key in ("title", "authors", "published", "article_id", "canonical_url", "section"):
        assert item[key] == want[key], key
    assert item["url"] == ARTICLE
    assert not (tmp_path / "out").exists()  # nothing archived, no run folder


def test_file_with_url_and_not_an_article(tmp_path):
    page = tmp_path / "nav.html"
    page.write_text("<html><body><nav><a href='/a'>A</a></nav></body></html>", "utf-8")
    proc = scrapy_extract(str(page), "--url", "https://example.org/x")
    assert proc.returncode == 0, proc.stderr
    item = json.loads(proc.stdout)
    assert item["url"] == "https://example.org/x"
    assert item["site"] == "example.org"
    assert "not an article (no article body)" in proc.stderr


def test_missing_file_is_a_usage_error(tmp_path):
    proc = scrapy_extract(str(tmp_path / "nope.html"))
    assert proc.returncode == 2
    assert "no such file" in proc.stderr
    assert proc.stdout == ""


def _warc(path: Path) -> Path:
    """A real one-record WARC (the project's writer), named ``path``."""
    writer = RotatingWarcWriter(WarcWriterConfig(directory=path.parent, run_id="x"))
    writer.write_exchange(
        HttpExchange(
            url=ARTICLE,
            method="GET",
            request_headers=[("Host", "www.rferl.org")],
            status=200,
            response_headers=[("Content-Type", "text/html; charset=utf-8")],
            payload=sample_file(ARTICLE).read_bytes(),
            fetched_at=datetime(2025, 5, 24, 12, 0, tzinfo=UTC),
        )
    )
    (written,) = writer.close()
    return Path(written).rename(path)


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        ("run.warc.gz", _warc, "a WARC file, not an HTML page: to extract every page in it run "
         "'scrapy reextract"),
        ("paper.pdf", lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\n") and p,
         "a PDF document, not an HTML page"),
        ("photo.html", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)) and p,
         "a PNG image, not an HTML page"),
        ("blob.html", lambda p: p.write_bytes(bytes(range(256))) and p, "binary data, not an"),
        ("notes.html", lambda p: p.write_text("just some words\n") and p,
         "text without any HTML tag in its first 64 KiB, not an HTML page"),
        ("sitemap.xml", lambda p: p.write_text('<?xml version="1.0"?><urlset></urlset>') and p,
         "a sitemap, not an HTML page"),
    ],
)  # fmt: skip
def test_a_file_that_is_no_html_page_is_refused(tmp_path, name, make, said):
    path = tmp_path / name
    make(path)
    proc = scrapy_extract(str(path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"{path}: {said}"), proc.stderr
    if name.endswith(".warc.gz"):
        assert f"warcio extract --payload {path} OFFSET > page.html" in proc.stderr


@pytest.mark.slow
def test_url_is_fetched_through_the_downloader(webdouble_factory, tmp_path):
    double = webdouble_factory(SAMPLE_SITE)
    proc = scrapy_extract(ARTICLE, env=proxy_env(double), output=tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    item = json.loads(proc.stdout)
    want = expected_article(ARTICLE)
    for key in ("url", "title", "authors", "published", "modified", "tags", "description"):
        assert item[key] == want[key], key
    assert want["first_paragraph"] in item["text"].split("\n\n")[0]  # after the dateline
    assert item["http_status"] == 200
    assert item["fetched_at"].endswith("Z")
    assert item["warc"] is None and item["run_id"] is None
    gets = [r for r in double.requests() if r["method"] == "GET"]
    # robots.txt first, then the page, with the project's user agent
    assert [r["path"] for r in gets] == ["/robots.txt", ARTICLE.split("rferl.org", 1)[1]]
    assert all(r["headers"]["user-agent"][0].startswith("newsarchive/") for r in gets)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_url_failures_exit_1(webdouble_factory):
    double = webdouble_factory(SAMPLE_SITE)
    env = proxy_env(double)
    missing = scrapy_extract("https://www.rferl.org/a/no-such-page/1.html", env=env)
    assert missing.returncode == 1
    assert "HTTP 404" in missing.stderr
    assert missing.stdout == ""
    disallowed = scrapy_extract("https://www.rferl.org/api/", env=env)
    assert disallowed.returncode == 1
    assert "not fetched" in disallowed.stderr
    assert "/api/" not in [r["path"] for r in double.requests() if r["method"] == "GET"]
