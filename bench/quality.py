"""Extraction quality gate: run the harness, hold every metric to its pinned floor.

    .venv/bin/python bench/quality.py [--corpora DIR] [--raise-floors] [--lower-floors]

Floors live in ``bench/quality_floors.json``. A run below any floor exits 1. ``--raise-floors``
pins the measured values where they beat the floors (never lowers one). Lowering a floor takes
``--lower-floors`` AND a line in ``CHANGELOG.md``'s Unreleased section naming the metric, so a
quality loss is always a visible, explained decision (as trafilatura's own eval gate does).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere

from newsarchive.eval.corpora import default_root  # noqa: E402 - after the path fix
from newsarchive.eval.harness import evaluate, format_table  # noqa: E402

FLOORS = Path(__file__).with_name("quality_floors.json")
CHANGELOG = REPO / "CHANGELOG.md"
SYSTEM = "newsarchive"
#: Floors are pinned this far below the measurement (rounding noise across platforms).
SLACK = 0.0005


def unreleased_notes(changelog: Path) -> str:
    """The text of the ``## Unreleased`` section (empty when there is none)."""
    if not changelog.is_file():
        return ""
    text = changelog.read_text("utf-8")
    _, found, rest = text.partition("## Unreleased")
    if not found:
        return ""
    return rest.split("\n## ", 1)[0]


def compare(measured: dict[str, float], floors: dict[str, float]) -> list[str]:
    """Metrics below their floor, as messages (a metric the harness no longer reports fails)."""
    failures = []
    for name, floor in sorted(floors.items()):
        value = measured.get(name)
        if value is None:
            failures.append(f"{name}: not measured any more (floor {floor:.4f})")
        elif value < floor:
            failures.append(f"{name}: {value:.4f} < floor {floor:.4f}")
    return failures


def pinned(value: float) -> float:
    return math.floor((value - SLACK) * 10000) / 10000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=None)
    parser.add_argument("--floors", type=Path, default=FLOORS, help=argparse.SUPPRESS)
    parser.add_argument("--changelog", type=Path, default=CHANGELOG, help=argparse.SUPPRESS)
    parser.add_argument("--raise-floors", action="store_true", help="pin better results")
    parser.add_argument(
        "--lower-floors",
        action="store_true",
        help="pin worse results too (needs a CHANGELOG.md Unreleased line naming each metric)",
    )
    args = parser.parse_args(argv)
    report = evaluate(args.corpora or default_root())
    measured = {k: v for k, v in report.metrics[SYSTEM].items() if not k.endswith("/field_checks")}
    print(format_table(report))
    floors: dict[str, float] = (
        json.loads(args.floors.read_text("utf-8")) if args.floors.is_file() else {}
    )
    failures = compare(measured, floors)
    if args.lower_floors and failures:
        notes = unreleased_notes(args.changelog)
        unexplained = [f for f in failures if f.split(":")[0] not in notes]
        if unexplained:
            print("\nnot lowering: CHANGELOG.md (## Unreleased) must name each lowered metric:")
            for failure in unexplained:
                print(f"  {failure}")
            return 1
        for name in (f.split(":")[0] for f in failures):
            if name in measured:
                floors[name] = pinned(measured[name])
            else:
                floors.pop(name)
        failures = []
    if not floors and not args.raise_floors:
        print(f"\nno floors in {args.floors}: pin them with --raise-floors")
        return 1
    if args.raise_floors or args.lower_floors:
        for name, value in measured.items():
            floors[name] = max(floors.get(name, 0.0), pinned(value))
        args.floors.write_text(json.dumps(floors, indent=2, sort_keys=True) + "\n", "utf-8")
        print(f"\nfloors written to {args.floors}")
    if failures:
        print("\nquality below the pinned floors:")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("\nall metrics at or above their floors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
