"""Every snippet of the README's "Loading the items" runs, on a real crawl's items, with the
types the section promises (pandas, DuckDB, Polars, and one run's JSONL)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from tests.archive_crawl import gzip_chunked_crawl
from tests.crawl_helpers import REPO

_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def snippets() -> dict[str, str]:
    """The section's python blocks by the first word of their opening comment."""
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("\n## Loading the items\n", 1)[1].split("\n## ", 1)[0]
    blocks = _BLOCK.findall(section)
    return {block.split()[1].rstrip(":"): block for block in blocks}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder laid out as the snippets expect: ``articles.parquet`` made by ``scrapy dataset``
    from a real crawl, and ``output/rferl/latest/items.jsonl``."""
    crawl = gzip_chunked_crawl(tmp_path_factory)
    work = tmp_path_factory.mktemp("loading")
    latest = work / "output" / "rferl" / "latest"
    latest.mkdir(parents=True)
    (latest / "items.jsonl").write_bytes((crawl.folder / "items.jsonl").read_bytes())
    parquet = work / "articles.parquet"
    made = subprocess.run(
        [sys.executable, "-m", "scrapy", "dataset", str(crawl.folder), "-O", str(parquet)],
        cwd=REPO,  # the project's commands are found from its folder (scrapy.cfg)
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    return work, crawl


def run_snippet(name: str, workdir, monkeypatch) -> dict:
    code = snippets()[name]
    monkeypatch.chdir(workdir)
    namespace: dict = {}
    exec(compile(code, f"README.md snippet {name}", "exec"), namespace)  # the README's own code
    return namespace


def test_the_section_has_the_four_snippets():
    assert set(snippets()) == {"pandas", "DuckDB", "Polars", "JSONL"}


def _assert_typed_pandas(df: pd.DataFrame, count: int) -> None:
    assert len(df) == count
    assert df["article_id"].dtype == pd.ArrowDtype(pa.string())
    assert df["accessible_for_free"].dtype == pd.ArrowDtype(pa.bool_())
    for name in ("published", "modified", "fetched_at"):
        assert df[name].dtype == pd.ArrowDtype(pa.timestamp("us", tz="UTC")), name
    assert df["authors"].dtype == pd.ArrowDtype(pa.list_(pa.string()))
    assert df["http_status"].dtype == pd.ArrowDtype(pa.int64())


def test_pandas_snippet(workdir, monkeypatch):
    work, crawl = workdir
    ns = run_snippet("pandas", work, monkeypatch)
    _assert_typed_pandas(ns["df"], len(crawl.items))
    sites = {}
    for item in crawl.items:
        sites[item["site"]] = sites.get(item["site"], 0) + 1
    assert ns["per_site"].to_dict() == sites


def test_duckdb_snippet(workdir, monkeypatch):
    work, crawl = workdir
    ns = run_snippet("DuckDB", work, monkeypatch)
    rows = ns["per_day"]
    assert sum(n for _, _, n in rows) == len(crawl.items)
    assert all(isinstance(day, date) for _, day, _ in rows if day is not None)


def test_polars_snippet(workdir, monkeypatch):
    import polars as pl

    work, crawl = workdir
    ns = run_snippet("Polars", work, monkeypatch)
    df = ns["df"]
    assert df.height == len(crawl.items)
    assert df.schema["published"] == pl.Datetime("us", "UTC")
    assert df.schema["article_id"] == pl.String
    assert df.schema["accessible_for_free"] == pl.Boolean
    assert ns["notices"].height == sum(1 for i in crawl.items if i["legal_notice"]) > 0


def test_jsonl_snippet(workdir, monkeypatch):
    work, crawl = workdir
    ns = run_snippet("JSONL", work, monkeypatch)
    _assert_typed_pandas(ns["df"], len(crawl.items))
