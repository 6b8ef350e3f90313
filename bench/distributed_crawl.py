"""Benchmark: one distributed worker against three, on a real Redis server.

Builds the sample site grown by N generated rferl.org articles (``tests/distributed_helpers``),
serves it with the web double answering each request after ``--delay`` seconds (a remote
server's latency: what a crawl waits on, and what more workers overlap), starts a fresh
``redis-server`` on a loopback port, and runs the same distributed crawl twice in one go:

* baseline: one worker (``NEWSARCHIVE_DISTRIBUTED`` set, ``-s`` settings identical);
* three workers started together, sharing the run (in a second Redis database: a fresh state).

Each worker keeps the per-worker settings (``CONCURRENT_REQUESTS_PER_DOMAIN``: ``--per-domain``,
no AutoThrottle, extraction in-process), so three workers put three times the load on the site:
the politeness budget of a distributed run is per worker (README, "Distributed crawling"). With a
small per-domain budget and a slow server the crawl waits on the network, and workers overlap the
waits (``--per-domain 2 --delay 0.5``: the project's default politeness); with a large one it is
bound by the CPU of the machine the workers share. Prints the
wall time from the first start to the last exit, the crawl time (first engine start to last
finish, from the workers' stats: without the start-up of the Python processes, which a long
backfill does not notice), items/s and the speed-ups (one / three). The merge is not timed.

    .venv/bin/python bench/distributed_crawl.py [--articles 600] [--delay 0.2] [--per-domain 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
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


def crawl_span(folder: Path, names: list[str]) -> float:
    """Seconds from the first worker's engine start to the last one's finish (their stats):
    the crawl itself, without the processes' start-up and shutdown."""
    stats = [json.loads((folder / f"stats-{name}.json").read_text("utf-8")) for name in names]
    start = min(datetime.fromisoformat(s["start_time"]) for s in stats)
    finish = max(datetime.fromisoformat(s["finish_time"]) for s in stats)
    return (finish - start).total_seconds()


def run(
    output: Path, run_id: str, url: str, proxy: str, workers: int, per_domain: int
) -> tuple[float, float, int]:
    """Start ``workers`` workers of one run together: (seconds from their start to the last
    exit, seconds of crawl, items)."""
    env = {**os.environ, "http_proxy": proxy, "https_proxy": proxy, "no_proxy": ""}
    names = [f"w{n}" for n in range(1, workers + 1)]
    output.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                *worker_command(output, run_id, url, name),
                "-s",
                "NEWSARCHIVE_SUMMARY_ENABLED=False",
                "-s",
                f"CONCURRENT_REQUESTS_PER_DOMAIN={per_domain}",
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
    items = sum(count_lines(folder / f"items-{name}.jsonl") for name in names)
    if not items:
        raise SystemExit(f"{run_id} wrote no item: the timing would mean nothing")
    return seconds, crawl_span(folder, names), items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per answer")
    parser.add_argument(
        "--per-domain", type=int, default=8, help="CONCURRENT_REQUESTS_PER_DOMAIN of each worker"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        build_site(Path(tmp, "site"), args.articles)
        with (
            redis_server(Path(tmp, "redis")) as url,
            WebDouble(Path(tmp, "site"), delay=args.delay) as double,
        ):
            output = Path(tmp, "out")
            # Two Redis databases: the cross-run state is the spider's, and the second crawl
            # must not find the first one's articles known.
            one = run(output, "bench-one", url, double.proxy_url, 1, args.per_domain)
            fresh = url.rsplit("/", 1)[0] + "/1"
            three = run(output, "bench-three", fresh, double.proxy_url, 3, args.per_domain)
    print(
        f"articles: {args.articles} generated + the sample site; server delay {args.delay} s;"
        f" CONCURRENT_REQUESTS_PER_DOMAIN={args.per_domain} per worker"
    )
    for name, (wall, span, items) in (("1 worker", one), ("3 workers", three)):
        print(
            f"{name:10s} wall {wall:7.2f} s ({items / wall:5.1f} items/s)"
            f"   crawl {span:7.2f} s ({items / span:5.1f} items/s)   {items} items"
        )
    print(
        f"speed-up 3 workers / 1 worker: {one[0] / three[0]:.2f}x wall,"
        f" {one[1] / three[1]:.2f}x crawl (engine start to finish, start-up excluded)"
    )
    print(json.dumps({"one": one, "three": three}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
