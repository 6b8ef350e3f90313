"""Benchmark: peak memory of ``scrapy dataset`` as the item history grows.

Generates item histories of N/10 and N items over 10 runs (``tests/item_history.py``), runs
``scrapy dataset <folder> -O out.parquet`` on each in a fresh process and prints each one's peak
RSS and time, and the ratio large / small: near 1.0 means memory stays flat. For scale, the same
for loading every ``items.jsonl`` of the history with pandas (what a user would do without the
command).

    .venv/bin/python bench/dataset_memory.py [--items 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.item_history import write_history  # noqa: E402 - after the path fix above

PANDAS_LOAD = (
    "import glob, os, sys, pandas as pd;"
    "paths = sorted(glob.glob(sys.argv[1] + '/2*/items.jsonl'));"
    "pd.concat([pd.read_json(p, lines=True) for p in paths if os.path.getsize(p)])"
)


def measure(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one command in its own process."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    errors = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:4]} failed: {errors[-2000:]}")
    return usage.ru_maxrss / 1024, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-dataset-") as tmp:
        for items in (args.items // 10, args.items):
            spider = Path(tmp) / f"h{items}" / "rferl"
            write_history(spider, items=items, runs=10)
            out = Path(tmp) / f"h{items}.parquet"
            ours = measure([sys.executable, "-m", "scrapy", "dataset", str(spider), "-O", str(out)])
            pandas = measure([sys.executable, "-c", PANDAS_LOAD, str(spider)])
            results[items] = (ours, pandas)
            print(
                f"{items:>7,} items: scrapy dataset peak RSS {ours[0]:.0f} MiB ({ours[1]:.1f} s);"
                f" pandas.read_json of every run {pandas[0]:.0f} MiB ({pandas[1]:.1f} s)"
            )
    small, large = results[args.items // 10], results[args.items]
    print(
        f"growth x10 items: scrapy dataset {large[0][0] / small[0][0]:.2f}x peak RSS,"
        f" pandas.read_json {large[1][0] / small[1][0]:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
