"""The benchmark's mirror: the extraction corpora's real pages re-hosted under RFE/RL URLs.

Pages are read in place from the shared corpora (``newsarchive.eval.corpora``) and written,
decompressed, into a temporary folder the web double serves: page ``n`` of the mirror is corpus
page ``n mod 180`` with a comment naming its copy appended (so no two payloads are identical and
WARC deduplication does not turn copies into cheap revisits), at
``https://www.rferl.org/a/<40000000 + n>.html``, listed in the ``_latest`` sitemap the ``rferl``
spider reads. ``localhost`` is an alias of the same folder, for tools that cannot use a proxy.

Pages are served ``Content-Encoding: gzip``, as RFE/RL's servers send them to clients that
accept it (every tool measured does): compressed once here, at level 6, with a sidecar header
file for the web double, so the double's CPU stays out of the figures. ``encoded=False`` serves
them as plain bytes instead (the archive then gzips five times as many bytes per page).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from newsarchive.eval.corpora import benchmark_pages, default_root, fundus_pages, pangea_pages

HOST = "www.rferl.org"
FIRST_ID = 40_000_000
_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: The web double's per-file header overrides (``newsarchive.webdouble``).
_GZIP_SIDECAR = json.dumps({"headers": {"Content-Encoding": "gzip"}})
_ROBOTS = "User-agent: *\nAllow: /\nSitemap: https://www.rferl.org/sitemap.xml\n"


@dataclass(frozen=True)
class Mirror:
    """A built mirror: its folder, the page URLs (proxied HTTPS) and the same pages over
    plain HTTP on ``localhost`` (for trafilatura's command line, which takes no HTTP proxy)."""

    root: Path
    urls: list[str]
    corpus_pages: list[tuple[str, bytes]]

    def plain_urls(self, port: int) -> list[str]:
        return [u.replace(f"https://{HOST}/", f"http://localhost:{port}/") for u in self.urls]


def corpus_pages(root: Path | None = None) -> list[tuple[str, bytes]]:
    """(original URL, HTML bytes) of every extraction-corpus page, read in place."""
    root = root or default_root()
    problems: list[str] = []
    pages = [
        *benchmark_pages(root, problems),
        *fundus_pages(root, problems=problems),
        *pangea_pages(root, problems),
    ]
    if not pages:
        raise SystemExit(
            f"no corpus pages under {root}: set NEWSARCHIVE_CORPORA to the shared corpora folder"
        )
    return [(page.url, page.html) for page in pages]


def mirror_page(
    pages: list[tuple[str, bytes]], n: int, *, encoded: bool = True
) -> tuple[str, bytes]:
    """Page ``n`` of the mirror: its URL and its bytes as served (gzip-encoded if ``encoded``)."""
    _url, html = pages[n % len(pages)]
    page = html + f"\n<!-- mirror copy {n} -->\n".encode()
    if encoded:
        page = gzip.compress(page, compresslevel=6, mtime=0)
    return f"https://{HOST}/a/{FIRST_ID + n}.html", page


def build(folder: Path, count: int, corpora: Path | None = None, *, encoded: bool = True) -> Mirror:
    """Write ``count`` mirror pages, robots.txt and the sitemaps into ``folder``; ``encoded``:
    pages served gzip-encoded (see the module docstring)."""
    pages = corpus_pages(corpora)
    site = folder / HOST
    (site / "a").mkdir(parents=True)
    (folder / "localhost").symlink_to(HOST)
    (site / "robots.txt").write_text(_ROBOTS)
    urls = []
    for n in range(count):
        url, page = mirror_page(pages, n, encoded=encoded)
        name = url.rsplit("/", 1)[1]
        if encoded:
            (site / "a" / f"{name}.headers.json").write_text(_GZIP_SIDECAR)
        (site / "a" / name).write_bytes(page)
        urls.append(url)
    entries = "".join(
        f"<url><loc>{u}</loc><lastmod>2025-05-25T10:00:00Z</lastmod></url>" for u in urls
    )
    (site / "sitemap_8_latest.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{_NS}">{entries}</urlset>'
    )
    (site / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{_NS}">'
        f"<sitemap><loc>https://{HOST}/sitemap_8_latest.xml.gz</loc></sitemap></sitemapindex>"
    )
    return Mirror(folder, urls, pages)
