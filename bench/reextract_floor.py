"""The most ``scrapy reextract`` could reach on this machine: its workers' own work, nothing else.

    python bench/reextract_floor.py [--pages 2000]

The mirror's pages (``bench/mirror.py``, gzip-encoded as served and archived) are held in
memory; one process per core, forked from this one once it has imported and warmed up
extraction, judges its share of them exactly as reextract's workers do
(:func:`newsarchive.extraction.bounded.judge_archived`: inflate, charset, ``is_article``,
``extract()`` hashing the blocks for the site template). No archive is read, nothing crosses a
pipe, no item is written, no interpreter starts: what is left of ``scrapy reextract`` when
everything but its workers' per-page work costs nothing. ``bench/throughput.py`` compares it
with ``cores / extract()'s cost`` in the same run.

Prints one JSON line: ``pages``, ``seconds`` (from the first fork to the last worker's exit),
``pages_per_s``, ``cpu_ms_per_page`` (the workers') and ``rss_mib`` (the largest worker's peak).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.mirror import corpus_pages, mirror_page  # noqa: E402 - after the path fix above
from newsarchive.extraction.bounded import default_workers, judge_archived  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    corpus = corpus_pages()
    pages = [mirror_page(corpus, n) for n in range(args.pages)]
    for url, body in pages[:20]:  # warm up: trafilatura's data, compiled expressions
        judge_archived(body, "gzip", "text/html", url, {}, frozenset())
    cores = default_workers()
    gc.freeze()  # the workers' collections do not copy the pages they share
    before = os.times()
    started = time.perf_counter()
    children = []
    for worker in range(cores):
        pid = os.fork()
        if pid == 0:
            for url, body in pages[worker::cores]:
                judge_archived(body, "gzip", "text/html", url, {}, frozenset())
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    seconds = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    print(
        json.dumps(
            {
                "pages": args.pages,
                "seconds": seconds,
                "pages_per_s": args.pages / seconds,
                "cpu_ms_per_page": 1000 * cpu / args.pages,
                "rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
