"""Every ``newsarchive/...`` stat a real crawl writes has a row in the README's "Stats" table.

STYLE §5: each stat is "listed in the docs with what sets it". The crawls are real, through the
web double: ``rferl`` over the sample site twice on one output (a first run, then a scheduled
run that skips known articles and sends conditional requests), a replay of the first run,
``news`` once, ``rferl`` with page requisites, and ``rferl`` over the fault matrix's hostile
site (retries, back-off, scope, failures), so the stats of discovery, extraction, the
incremental machinery, replay, requisites, the error log, the accounting and the self-check all
appear. The table's first cell is parsed the way
people read it: ``<name>`` is one path segment, ``.../x`` is a sibling of the last full key in
the cell, ``{a,b}`` are alternatives.
"""

from __future__ import annotations

import re

import pytest

from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import REPO, SAMPLE_ARGS, run_crawl
from tests.test_faults import HOSTILE
from tests.test_faults import RULES as FAULT_RULES

README = REPO / "README.md"
_CODE = re.compile(r"`([^`]+)`")
_ALTERNATIVES = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER = re.compile(r"<[^<>/]+>")


def stats_table(readme: str) -> list[str]:
    """The first cells of the rows of the README's "Stats" table."""
    section = readme.split("\n## Stats\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [row.split("|")[1] for row in rows]


def expand(cell: str) -> list[str]:
    """The key patterns one first cell names, shorthand resolved (``<x>`` left in place)."""
    keys: list[str] = []
    parent = ""
    for code in _CODE.findall(cell):
        if code.startswith("newsarchive/"):
            full = code
            parent = code.rsplit("/", 1)[0]
        elif code.startswith(".../") and parent:
            full = f"{parent}/{code[4:]}"
        else:
            continue
        match = _ALTERNATIVES.search(full)
        if match:
            keys += [
                full[: match.start()] + alt + full[match.end() :] for alt in match[1].split(",")
            ]
        else:
            keys.append(full)
    return keys


def key_pattern(key: str) -> re.Pattern[str]:
    """``newsarchive/errors/<phase>/<reason>`` matches ``newsarchive/errors/fetch/http_500``."""
    parts = _PLACEHOLDER.split(key)
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + r"\Z")


def documented_patterns(readme: str) -> list[re.Pattern[str]]:
    return [key_pattern(key) for cell in stats_table(readme) for key in expand(cell)]


def undocumented(keys: set[str], readme: str) -> list[str]:
    patterns = documented_patterns(readme)
    return sorted(k for k in keys if not any(p.match(k) for p in patterns))


@pytest.fixture(scope="module")
def crawled_keys(sample_site, tmp_path_factory) -> set[str]:
    output = tmp_path_factory.mktemp("out")
    rferl = SAMPLE_ARGS
    with WebDouble(sample_site) as double:
        first = run_crawl(double, output, *rferl, run_id="first")
        runs = [
            first,
            run_crawl(double, output, *rferl, run_id="scheduled"),
            run_crawl(
                double,
                output / "replay",
                *rferl,
                *("-s", f"NEWSARCHIVE_REPLAY={first.folder}"),
                run_id="replay",
            ),
            run_crawl(double, output, "-a", "site=https://www.rferl.org", spider="news"),
            run_crawl(  # page requisites, with a count cap low enough to leave some out
                double,
                output / "requisites",
                *("-a", "sites=www.rferl.org", "-a", "since=2012-01-01", "-a", "requisites=1"),
                *("-s", "NEWSARCHIVE_REQUISITES_MAX_PER_PAGE=2"),
                run_id="requisites",
            ),
        ]
    hostile = ("-a", "sites=www.currenttime.tv", "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=1")
    with WebDouble(HOSTILE, faults=FAULT_RULES) as double:
        runs.append(run_crawl(double, output, *hostile, run_id="faults", timeout=120))
    keys: set[str] = set()
    for run in runs:
        assert run.stats, run.stdout[-2000:] + run.log[-3000:]
        keys |= {k for k in run.stats if k.startswith("newsarchive/")}
    return keys


# -- the parser ---------------------------------------------------------------------------------
def test_shorthand_placeholders_and_alternatives_are_understood():
    readme = (
        "intro\n\n## Stats\n\n| stat | set by | meaning |\n|---|---|---|\n"
        "| `newsarchive/a/b`, `.../{c,d}` | x | y |\n"
        "| `newsarchive/errors/<phase>/<reason>`, `newsarchive/errors/urls` | x | y |\n"
        "\n## Commands\n\n| `newsarchive/not/a/stat` | x | y |\n"
    )
    keys = {
        "newsarchive/a/b",
        "newsarchive/a/c",
        "newsarchive/a/d",
        "newsarchive/errors/fetch/http_500",
        "newsarchive/errors/urls",
        "newsarchive/a/e",
        "newsarchive/errors/fetch",
        "newsarchive/errors/fetch/http_500/extra",
        "newsarchive/not/a/stat",
    }
    assert undocumented(keys, readme) == [
        "newsarchive/a/e",
        "newsarchive/errors/fetch",
        "newsarchive/errors/fetch/http_500/extra",
        "newsarchive/not/a/stat",
    ]


def test_the_readme_has_a_stats_table():
    assert len(stats_table(README.read_text("utf-8"))) >= 20


# -- the crawls ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_stat_of_a_real_crawl_is_in_the_readme(crawled_keys):
    assert len(crawled_keys) >= 40  # the crawls ran and wrote their stats
    missing = undocumented(crawled_keys, README.read_text("utf-8"))
    assert not missing, "stats missing from the README's Stats table: " + ", ".join(missing)
