"""One real crawl of the sample site through a gzip + chunked web double, shared by the archive
tests (wire fidelity, CDXJ, WACZ, self-check) of a pytest session.

Tests must not modify ``result.folder``; the ones that corrupt files work on a copy
(:func:`copy_run`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import SAMPLE_ARGS, CrawlResult, run_crawl

SITE = Path(__file__).resolve().parent / "site"
_cache: dict[str, CrawlResult] = {}


def gzip_chunked_crawl(tmp_path_factory, *, chunked: bool = True) -> CrawlResult:
    """The crawl (made once per session and kind): every body gzip-encoded (for text types)
    and, with ``chunked``, sent with chunked transfer coding. Its run id is the default one, so
    the archive tests see the names users get."""
    key = f"chunked={chunked}"
    if key not in _cache:
        site = site_with_a_duplicate(tmp_path_factory.mktemp("site"))
        double = WebDouble(site, gzip=True, chunked=chunked).start()
        print(f"webdouble listening on {double.proxy_url} (gzip, chunked={chunked})")
        try:
            result = run_crawl(
                double,
                tmp_path_factory.mktemp("archive-crawl"),
                *SAMPLE_ARGS,
                run_id=None,  # the default, timestamp run id: upper-case T and Z
            )
        finally:
            double.stop()
        assert result.returncode == 0, result.stdout[-3000:] + result.log[-5000:]
        _cache[key] = result
    return _cache[key]


def site_with_a_duplicate(dest: Path) -> Path:
    """A copy of the sample site whose svoboda robots.txt lists the sitemap index under a second
    name too (CMSes serve ``/sitemap.xml`` and ``/sitemap_index.xml`` alike): the run archives
    one payload twice, so the second copy is an in-run identical-payload revisit."""
    site = dest / "site"
    shutil.copytree(SITE, site, symlinks=True)
    host = site / "www.svoboda.org"
    shutil.copyfile(host / "sitemap.xml", host / "sitemap_index.xml")
    with (host / "robots.txt").open("a", encoding="utf-8") as robots:
        robots.write("Sitemap: https://www.svoboda.org/sitemap_index.xml\n")
    return site


def copy_run(result: CrawlResult, dest: Path) -> Path:
    """A copy of the run folder, named like the original (spider/run id), to damage safely."""
    folder = dest / result.folder.parent.name / result.folder.name
    shutil.copytree(result.folder, folder)
    return folder
