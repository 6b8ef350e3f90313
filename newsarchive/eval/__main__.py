"""``python -m newsarchive.eval [--corpora DIR] [--json FILE] [--misses] [--split dev|heldout]
[--split-by page|publisher] [--templates]``: print the table."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from newsarchive.eval.corpora import SPLIT_KEYS, SPLITS, default_root
from newsarchive.eval.harness import evaluate, format_table
from newsarchive.eval.templates import format_rows, template_effect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newsarchive.eval",
        description="Extraction quality of newsarchive next to plain trafilatura.",
    )
    parser.add_argument(
        "--corpora",
        type=Path,
        default=None,
        help="the shared corpora folder (default: $NEWSARCHIVE_CORPORA or ../shared/corpora)",
    )
    parser.add_argument("--json", type=Path, help="also write the metrics as JSON here")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument(
        "--misses", action="store_true", help="list every page and field a system got wrong"
    )
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default=None,
        help="score only this fixed half of the fundus pages (by sha1 of the file path); "
        "default: all of them",
    )
    parser.add_argument(
        "--split-by",
        choices=SPLIT_KEYS,
        default="page",
        help="what --split hashes: each page's path (default), or its publisher, so that no "
        "site has pages in both halves",
    )
    parser.add_argument(
        "--templates",
        action="store_true",
        help="also score what site-template learning does where a publisher has several "
        "pages (newsarchive.eval.templates)",
    )
    args = parser.parse_args(argv)
    root = args.corpora or default_root()
    started = time.monotonic()
    try:
        report = evaluate(root, workers=args.workers, split=args.split, split_by=args.split_by)
    except FileNotFoundError as exc:
        print(f"newsarchive.eval: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    print(f"\n{sum(report.pages.values())} pages from {root}, {time.monotonic() - started:.0f} s")
    for system, errors in report.errors.items():
        if errors:
            print(f"{system} failed on {len(errors)} pages (scored as wrong):")
            for error in errors:
                print(f"  {error}")
    if report.skipped:
        print(f"{len(report.skipped)} corpus entries not scored:")
        for reason in report.skipped:
            print(f"  {reason}")
    if args.templates:
        workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
        print("\nSite templates, learned from each publisher's pages in the corpora:\n")
        print(format_rows(template_effect(root, workers=workers)))
    if args.misses:
        for system, misses in report.misses.items():
            print(f"\n{system}: {len(misses)} misses")
            for miss in misses:
                print(f"  {miss}")
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
