"""CPU per page of one extractor alone, in its own process, on the corpus pages' HTML.

    python bench/extract_alone.py newsarchive|trafilatura|both [--repeat R]

Prints one JSON line: ``ms_per_page`` (process CPU time, after one warm-up pass over every
page) and ``rss_mib`` (this process's peak RSS). ``newsarchive`` is
:func:`newsarchive.extraction.extract.extract`; ``trafilatura`` is
``trafilatura.bare_extraction(with_metadata=True)`` with its defaults: both get the same bytes.

``both`` runs the two in one process, alternating in blocks of :data:`BLOCK` pages (the order
swapped every other block), and prints ``ms_per_page`` for each: whatever else the machine
does slows both alike, so their ratio holds on a busy machine where two separate runs minutes
apart can differ by a fifth. Blocks, not single pages: alternating page by page evicts each
one's code and data from the CPU caches before every call, which no real crawl does (a worker
extracts page after page) and which cost ``extract()`` 10 % more than running alone.
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

#: Pages each extractor gets in a row in ``both`` mode.
BLOCK = 20


def extractor(name: str) -> Callable[[bytes, str], object]:
    if name == "newsarchive":
        from newsarchive.extraction.extract import extract

        return lambda html, url: extract(html, url)
    import trafilatura

    return lambda html, url: trafilatura.bare_extraction(html, url=url, with_metadata=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=("newsarchive", "trafilatura", "both"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    pages = corpus_pages()
    if args.system == "both":
        return _interleaved(pages, args.repeat)
    run = extractor(args.system)
    for url, html in pages:  # warm-up: imports, caches, compiled XPaths
        run(html, url)
    started = time.process_time()
    for _ in range(args.repeat):
        for url, html in pages:
            run(html, url)
    seconds = time.process_time() - started
    rss = _peak_rss_mib()
    count = args.repeat * len(pages)
    print(json.dumps({"pages": count, "ms_per_page": 1000 * seconds / count, "rss_mib": rss}))
    return 0


def _peak_rss_mib() -> float:
    """This process's peak RSS since it started (Linux's ``VmHWM``: ``ru_maxrss`` would also
    count the peak of the process that started it, carried across fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _interleaved(pages: list[tuple[str, bytes]], repeat: int) -> int:
    runs = {name: extractor(name) for name in ("newsarchive", "trafilatura")}
    spent = dict.fromkeys(runs, 0.0)
    for run in runs.values():
        for url, html in pages:  # warm-up
            run(html, url)
    blocks = [pages[i : i + BLOCK] for i in range(0, len(pages), BLOCK)]
    for round_ in range(repeat):
        for n, block in enumerate(blocks):
            order = list(runs) if (n + round_) % 2 == 0 else list(runs)[::-1]
            for name in order:
                started = time.process_time()
                for url, html in block:
                    runs[name](html, url)
                spent[name] += time.process_time() - started
    count = repeat * len(pages)
    rss = _peak_rss_mib()
    found = {name: 1000 * seconds / count for name, seconds in spent.items()}
    print(json.dumps({"pages": count, "ms_per_page": found, "rss_mib": rss}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
