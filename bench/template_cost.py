"""CPU cost of site-template learning in extraction: ``extract(..., template=...)`` (what the
crawl runs: the page's blocks hashed for learning, template blocks stripped) against plain
``extract()`` (what ``scrapy extract`` runs), on the article-extraction-benchmark pages read in
place from the corpora folder, interleaved in one process, CPU time only.

    .venv/bin/python bench/template_cost.py [--repeat R] [--corpora DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsarchive.eval.corpora import benchmark_pages, default_root  # noqa: E402 - after sys.path
from newsarchive.extraction import extract  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpora", type=Path, default=None)
    args = parser.parse_args()
    pages = list(benchmark_pages(args.corpora or default_root()))
    for page in pages[:3]:  # trafilatura's first call loads its data
        extract(page.html, page.url)
    cpu = {"plain": 0.0, "template": 0.0}
    for _ in range(args.repeat):
        for name, template in (("plain", None), ("template", frozenset())):
            started = time.process_time()
            for page in pages:
                extract(page.html, page.url, template=template)
            cpu[name] += time.process_time() - started
    runs = args.repeat * len(pages)
    plain, learning = cpu["plain"] / runs * 1000, cpu["template"] / runs * 1000
    print(f"{len(pages)} pages x {args.repeat}")
    print(f"extract() plain:          {plain:6.1f} ms CPU/page")
    print(f"extract(template=...):    {learning:6.1f} ms CPU/page")
    print(f"ratio template/plain:     {learning / plain:6.3f}")


if __name__ == "__main__":
    main()
