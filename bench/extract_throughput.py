"""Pages per second through the extract pipeline: in the crawl's process vs the worker pool.

Runs :class:`newsarchive.pipelines.extract.ExtractPipeline` itself (``process_item`` awaited
with many pages in flight, as Scrapy does) on two page sets: the sample site's article pages
(``tests/site``) and the article-extraction-benchmark HTML (read in place from the corpora
folder). Prints pages/s for ``NEWSARCHIVE_EXTRACT_WORKERS=0`` and for the pool, and the ratio,
after a control: how much faster N plain busy-loop processes get through N times the work than
one (on an idle N-core machine about N; on a shared one, what the pool can hope for).

    .venv/bin/python bench/extract_throughput.py [--workers N] [--repeat R] [--in-flight K]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsarchive.extraction.bounded import default_workers  # noqa: E402 - after sys.path
from newsarchive.items import FetchedPage  # noqa: E402
from newsarchive.pipelines.extract import ExtractPipeline  # noqa: E402

Page = tuple[str, bytes]


def sample_pages() -> list[Page]:
    """Every HTML file under ``tests/site/<host>/a|content/`` with the URL it is served at."""
    site = REPO / "tests" / "site"
    pages = []
    for path in sorted(site.glob("*/*/**/*.html")):
        relative = path.relative_to(site)
        if relative.parts[1] in ("a", "content"):
            pages.append((f"https://{relative.parts[0]}/{'/'.join(relative.parts[1:])}", path))
    return [(url, path.read_bytes()) for url, path in pages]


def corpus_pages() -> list[Page]:
    """The article-extraction-benchmark pages (UTF-8 HTML, gzip), read in place."""
    root = Path(os.environ.get("NEWSARCHIVE_CORPORA") or REPO.parent / "shared" / "corpora")
    folder = root / "article-extraction-benchmark" / "html"
    files = sorted(folder.glob("*.html.gz"))
    if not files:
        sys.exit(f"no pages in {folder}: set NEWSARCHIVE_CORPORA to the shared corpora folder")
    return [
        (f"https://example.com/a/{p.name[:16]}.html", gzip.decompress(p.read_bytes()))
        for p in files
    ]


async def _run(pipeline: ExtractPipeline, pages: list[Page], in_flight: int) -> int:
    gate = asyncio.Semaphore(in_flight)
    articles = 0

    async def one(url: str, body: bytes) -> None:
        nonlocal articles
        async with gate:
            page = FetchedPage(
                url=url,
                site=url.split("/")[2],
                body=body,
                encoding="utf-8",
                http_status=200,
                fetched_at="2026-01-01T00:00:00Z",
                article_id=None,
                warc=None,
                hints={},
            )
            try:
                await pipeline.process_item(page)
                articles += 1
            except DropItem:
                pass

    await asyncio.gather(*(one(url, body) for url, body in pages))
    return articles


_SPIN = "n = 0\nwhile n < 20_000_000:\n    n += 1\n"


def parallel_headroom(workers: int) -> float:
    """Speed-up of ``workers`` concurrent CPU-bound processes over one (the machine's share)."""

    def run(count: int) -> float:
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - started

    one = run(1)
    return workers * one / run(workers)


def pages_per_second(pages: list[Page], workers: int, repeat: int, in_flight: int) -> float:
    """Throughput of one pipeline over ``repeat`` passes; worker start-up is not timed."""
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_EXTRACT_WORKERS": workers})
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()
    try:
        asyncio.run(_run(pipeline, pages[: workers or 1], in_flight))  # warm up every worker
        started = time.perf_counter()
        for _ in range(repeat):
            asyncio.run(_run(pipeline, pages, in_flight))
        return repeat * len(pages) / (time.perf_counter() - started)
    finally:
        pipeline.close_spider()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=default_workers(), help="pool size")
    parser.add_argument("--repeat", type=int, default=3, help="passes over each page set")
    parser.add_argument("--in-flight", type=int, default=16, help="pages awaited at once")
    args = parser.parse_args()
    print(f"cores: {default_workers()}, pool: {args.workers} workers, in flight: {args.in_flight}")
    print(f"control: {args.workers} busy-loop processes run {parallel_headroom(args.workers):.2f}x")
    for name, pages in (("sample site", sample_pages()), ("benchmark corpus", corpus_pages())):
        size = sum(len(body) for _, body in pages) / 1e6
        inline = pages_per_second(pages, 0, args.repeat, args.in_flight)
        pooled = pages_per_second(pages, args.workers, args.repeat, args.in_flight)
        print(
            f"{name}: {len(pages)} pages, {size:.1f} MB x {args.repeat}: "
            f"in-process {inline:.1f} pages/s, pool {pooled:.1f} pages/s, "
            f"ratio {pooled / inline:.2f}"
        )


if __name__ == "__main__":
    main()
