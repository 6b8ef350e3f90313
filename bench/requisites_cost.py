"""Benchmark: what page requisites cost per article, first run and second run.

Crawls the sample site's www.rferl.org (``-a since=2012-01-01``: 8 article pages, 6 items)
through the web double (gzip on), with and without ``-a requisites=1``, each three times on one
output: a first run; a scheduled run (known articles are skipped, so are their requisites); a
second run with ``-a full=1`` (every article fetched again, so every requisite too). Per article
page it prints the requests and bytes served by the double (response bodies as sent) and the
WARC bytes written, and the difference requisites make.

    .venv/bin/python bench/requisites_cost.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsarchive.webdouble import WebDouble  # noqa: E402 - after the path fix above
from tests.crawl_helpers import run_crawl  # noqa: E402

SITE = ("-a", "sites=www.rferl.org", "-a", "since=2012-01-01")


def measure(double: WebDouble, output: Path, run_id: str, *args: str) -> dict[str, float]:
    run = run_crawl(double, output, *SITE, *args, run_id=run_id)
    if run.returncode != 0:
        raise SystemExit(f"crawl {run_id} failed:\n{run.stdout[-2000:]}")
    gets = [r for r in run.requests if r["method"] == "GET"]
    stats = run.stats
    return {
        "requests": len(gets),
        "bytes": sum(int(r.get("bytes") or 0) for r in gets),
        "warc_bytes": stats.get("newsarchive/warc/bytes", 0),
        "responses": stats.get("newsarchive/warc/response", 0),
        "revisits": stats.get("newsarchive/warc/revisit", 0),
        "requisites": stats.get("newsarchive/accounting/requisite", 0),
        "pages": stats.get("newsarchive/requisites/pages", 0),
    }


def main() -> None:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, WebDouble(REPO / "tests/site", gzip=True) as double:
        for name, extra in (("plain", ()), ("requisites", ("-a", "requisites=1"))):
            output = Path(tmp) / name
            results[f"{name} first"] = measure(double, output, "first", *extra)
            results[f"{name} scheduled"] = measure(double, output, "scheduled", *extra)
            results[f"{name} second"] = measure(double, output, "second", *extra, "-a", "full=1")
    pages = results["requisites first"]["pages"]
    print(f"article pages per run: {pages}")
    print(f"{'run':<20}{'requests':>10}{'bytes':>10}{'WARC bytes':>12}{'responses':>11}"
          f"{'revisits':>10}{'requisites':>12}")  # fmt: skip
    for name, row in results.items():
        print(f"{name:<20}{row['requests']:>10}{row['bytes']:>10}{row['warc_bytes']:>12}"
              f"{row['responses']:>11}{row['revisits']:>10}{row['requisites']:>12}")  # fmt: skip
    print("\nper article page, requisites on minus off:")
    for run in ("first", "scheduled", "second"):
        on, off = results[f"requisites {run}"], results[f"plain {run}"]
        extra = {key: (on[key] - off[key]) / pages for key in ("requests", "bytes", "warc_bytes")}
        print(
            f"  {run} run: {extra['requests']:.2f} requests, {extra['bytes'] / 1024:.1f} KiB "
            f"served, {extra['warc_bytes'] / 1024:.1f} KiB of WARC "
            f"(x{on['bytes'] / max(off['bytes'], 1):.2f} bytes served, "
            f"x{on['warc_bytes'] / max(off['warc_bytes'], 1):.2f} WARC bytes)"
        )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
