"""CPU per page of one extractor alone, in its own process, on the corpus pages' HTML.

    python bench/extract_alone.py newsarchive|trafilatura [--repeat R]

Prints one JSON line: ``ms_per_page`` (process CPU time, after one warm-up pass over every
page) and ``rss_mib`` (this process's peak RSS). ``newsarchive`` is
:func:`newsarchive.extraction.extract.extract`; ``trafilatura`` is
``trafilatura.bare_extraction(with_metadata=True)`` with its defaults: both get the same bytes.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.mirror import corpus_pages  # noqa: E402 - after the path fix above


def extractor(name: str) -> Callable[[bytes, str], object]:
    if name == "newsarchive":
        from newsarchive.extraction.extract import extract

        return lambda html, url: extract(html, url)
    import trafilatura

    return lambda html, url: trafilatura.bare_extraction(html, url=url, with_metadata=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=("newsarchive", "trafilatura"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    pages = corpus_pages()
    run = extractor(args.system)
    for url, html in pages:  # warm-up: imports, caches, compiled XPaths
        run(html, url)
    started = time.process_time()
    for _ in range(args.repeat):
        for url, html in pages:
            run(html, url)
    seconds = time.process_time() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    count = args.repeat * len(pages)
    print(json.dumps({"pages": count, "ms_per_page": 1000 * seconds / count, "rss_mib": rss}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
