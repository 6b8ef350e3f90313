"""Benchmark: one distributed worker against three, on a real Redis server.

Builds the sample site grown by N generated rferl.org articles (``tests/distributed_helpers``),
serves it with the web double answering each request after ``--delay`` seconds (a remote
server's latency: what a crawl waits on, and what more workers overlap), starts a fresh
``redis-server`` on a loopback port, and runs the same distributed crawl twice in one go:

* baseline: one worker (``NEWSARCHIVE_DISTRIBUTED`` set, ``-s`` settings identical);
* three workers started together, sharing the run.

Each worker keeps the per-worker settings (``CONCURRENT_REQUESTS_PER_DOMAIN=8``, no
AutoThrottle, extraction in-process), so three workers put three times the load on the site: the
politeness budget of a distributed run is per worker (README, "Distributed crawling"). Prints the
wall time from the first start to the last exit, pages/s and the speed-up (one / three). The
merge is not timed.

    .venv/bin/python bench/distributed_crawl.py [--articles 600] [--delay 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsarchive.webdouble import WebDouble  # noqa: E402 - after the path fix above
from tests.distributed_helpers import (  # noqa: E402
    build_site,
    count_lines,
    redis_server,
    worker_command,
)


def run(output: Path, run_id: str, url: str, proxy: str, workers: int) -> tuple[float, int]:
    """Start ``workers`` workers of one run together; (seconds to the last exit, items)."""
    env = {**os.environ, "http_proxy": proxy, "https_proxy": proxy, "no_proxy": ""}
    names = [f"w{n}" for n in range(1, workers + 1)]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                *worker_command(output, run_id, url, name),
                "-s",
                "NEWSARCHIVE_SUMMARY_ENABLED=False",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for name in names
    ]
    codes = [proc.wait() for proc in procs]
    seconds = time.perf_counter() - start
    if any(codes):
        raise SystemExit(f"a worker of {run_id} failed: exit statuses {codes}")
    folder = output / "rferl" / run_id
    return seconds, sum(count_lines(folder / f"items-{name}.jsonl") for name in names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per answer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        build_site(Path(tmp, "site"), args.articles)
        with (
            redis_server(Path(tmp, "redis")) as url,
            WebDouble(Path(tmp, "site"), delay=args.delay) as double,
        ):
            output = Path(tmp, "out")
            one_s, one_items = run(output, "bench-one", url, double.proxy_url, 1)
            three_s, three_items = run(output, "bench-three", url, double.proxy_url, 3)
    print(f"articles: {args.articles} generated + the sample site; server delay {args.delay} s")
    for name, seconds, items in (
        ("1 worker", one_s, one_items),
        ("3 workers", three_s, three_items),
    ):
        print(f"{name:10s} {seconds:7.2f} s  {items / seconds:7.1f} items/s  ({items} items)")
    print(f"speed-up 3 workers / 1 worker: {one_s / three_s:.2f}x")
    print(json.dumps({"one_s": one_s, "three_s": three_s, "items": [one_items, three_items]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
