"""``scrapy dataset``: one typed file from every run of a spider, streamed.

The types come from the item schema (a field added to the dataclasses becomes a column), the
latest version of each article is chosen across runs, the filters keep what they say, CSV is
flat, bad lines are named and skipped, and memory stays flat from 10,000 to 100,000 items.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from itemadapter import ItemAdapter

from newsarchive.dataset import (
    Filters,
    ReadReport,
    arrow_schema,
    csv_columns,
    item_columns,
    select,
)
from newsarchive.items import ArticleItem, LegalNotice
from tests.archive_crawl import gzip_chunked_crawl
from tests.crawl_helpers import REPO
from tests.item_history import NOTICE_EVERY, SITES, write_history

TIMESTAMP = pa.timestamp("us", tz="UTC")
#: Every member of LegalNotice is a string (the struct follows the dataclass, members added too).
NOTICE = pa.struct([(f.name, pa.string()) for f in fields(LegalNotice)])


def dataset(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "dataset", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_types_come_from_the_item_schema():
    schema = arrow_schema(item_columns())
    assert schema.names == list(ItemAdapter.get_field_names_from_class(ArticleItem))
    assert schema.field("article_id").type == pa.string()
    assert schema.field("article_key").type == pa.string()
    for name in ("published", "modified", "fetched_at"):
        assert schema.field(name).type == TIMESTAMP, name
    assert schema.field("authors").type == pa.list_(pa.string())
    assert schema.field("legal_notice").type == NOTICE
    assert schema.field("legal_notices").type == pa.list_(NOTICE)
    assert schema.field("accessible_for_free").type == pa.bool_()
    assert schema.field("http_status").type == pa.int64()
    warc = schema.field("warc").type
    assert warc.field("offset").type == pa.int64() and warc.field("filename").type == pa.string()
    assert b"Publication time" in schema.field("published").metadata[b"description"]


def test_a_new_item_field_becomes_a_column():
    """The columns follow the dataclasses: nothing to edit in the dataset code."""

    @dataclass
    class Later(ArticleItem):
        changes: list[str] = field(default_factory=list)
        """What changed since the previous version."""

        seen: str | None = field(
            default=None, metadata={"json_schema_extra": {"format": "date-time"}}
        )
        """When."""

    columns = item_columns(ItemAdapter.get_json_schema(Later))
    schema = arrow_schema(columns)
    assert schema.field("changes").type == pa.list_(pa.string())
    assert schema.field("seen").type == TIMESTAMP
    assert [c.name for c in csv_columns(columns)][-2:] == ["changes", "seen"]


def test_latest_version_per_article_across_runs(tmp_path):
    spider = tmp_path / "rferl"
    history = write_history(spider, items=600, runs=6, text_size=100)
    assert len(history.latest) < history.lines  # some articles have several versions
    out = tmp_path / "articles.parquet"
    result = dataset(spider, "-O", out)
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    assert table.num_rows == len(history.latest)
    keys = table.column("article_key").to_pylist()
    assert len(set(keys)) == len(keys)
    got = dict(zip(keys, table.column("version").to_pylist(), strict=True))
    runs = dict(zip(keys, table.column("run_id").to_pylist(), strict=True))
    assert got == {key: version for key, (version, _) in history.latest.items()}
    assert runs == {key: run for key, (_, run) in history.latest.items()}
    assert f"{len(history.latest):,} rows (latest versions)" in result.stdout
    assert f"from {history.lines:,} item lines in 7 runs" in result.stdout  # + the empty run
    everything = dataset(spider, "-O", tmp_path / "all.parquet", "--versions", "all")
    assert everything.returncode == 0, everything.stderr
    assert pq.read_metadata(tmp_path / "all.parquet").num_rows == history.lines


def test_all_null_column_keeps_its_type(tmp_path):
    """accessible_for_free is null on every generated item: still a boolean column."""
    spider = tmp_path / "news"
    write_history(spider, items=50, runs=2, text_size=50)
    out = tmp_path / "a.parquet"
    assert dataset(spider, "-O", out).returncode == 0
    table = pq.read_table(out)
    assert table.schema.field("accessible_for_free").type == pa.bool_()
    assert table.column("accessible_for_free").null_count == table.num_rows
    assert table.schema.field("previous_digest").type == pa.string()


def test_filters(tmp_path):
    spider = tmp_path / "rferl"
    history = write_history(spider, items=300, runs=3, text_size=50)

    def rows(**filters) -> list[dict]:
        report = ReadReport()
        lines = select(spider, all_versions=False, filters=Filters(**filters), report=report)
        return [line.item for line in lines]

    assert len(rows()) == len(history.latest)
    svoboda = rows(sites=frozenset({"www.svoboda.org"}))
    assert svoboda and {r["site"] for r in svoboda} == {"www.svoboda.org"}
    assert len(svoboda) == sum(1 for k in history.latest if int(k) % len(SITES) == 1)
    noticed = rows(with_notice=True)
    assert noticed and all(r["legal_notice"]["kind"] == "foreign-agent" for r in noticed)
    assert len(noticed) == sum(
        1 for k in history.latest if (int(k) - 30_000_000) % NOTICE_EVERY == 0
    )
    since = rows(since=date(2024, 1, 5))  # article n is published n hours after 2024-01-01 06:00
    assert since and all(r["published"] >= "2024-01-05" for r in since)
    assert len(since) == sum(1 for k in history.latest if int(k) - 30_000_000 >= 4 * 24 - 6)


def test_the_command_takes_the_filters(tmp_path):
    spider = tmp_path / "rferl"
    write_history(spider, items=100, runs=2, text_size=50)
    out = tmp_path / "n.jsonl"
    sites = "www.rferl.org,www.svoboda.org"
    result = dataset(spider, "-O", out, "--site", sites, "--with-notice", "--since", "2024-01-02")
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert items
    assert {i["site"] for i in items} <= {"www.rferl.org", "www.svoboda.org"}
    assert all(i["legal_notice"] and i["published"] >= "2024-01-02" for i in items)
    bad = dataset(spider, "-O", tmp_path / "x.xlsx")
    assert bad.returncode == 2 and ".parquet, .jsonl or .csv" in bad.stderr
    missing = dataset(tmp_path / "nowhere", "-O", out)
    assert missing.returncode == 2 and "nowhere is not a folder" in missing.stderr


def test_csv_is_flat_with_the_documented_names(tmp_path):
    spider = tmp_path / "rferl"
    write_history(spider, items=40, runs=2, text_size=50)
    out = tmp_path / "a.csv"
    assert dataset(spider, "-O", out).returncode == 0
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = [c.name for c in csv_columns(item_columns())]
    assert list(rows[0]) == names
    for name in ("warc_filename", "warc_offset", "legal_notice_kind", "extractor_version"):
        assert name in names
    noticed = [r for r in rows if r["legal_notice_kind"]]
    assert noticed and json.loads(noticed[0]["legal_notices"])[0]["kind"] == "foreign-agent"
    assert json.loads(rows[0]["authors"]) == ["Author 0"]
    assert rows[0]["published"] == "2024-01-01T06:00:00Z"
    assert rows[0]["accessible_for_free"] == ""
    readme = (REPO / "README.md").read_text("utf-8")
    flattened = [n for n in names if n not in ItemAdapter.get_field_names_from_class(ArticleItem)]
    undocumented = [n for n in flattened if f"`{n}`" not in readme]
    assert not undocumented, f"README must name the flattened CSV columns: {undocumented}"


def test_unreadable_lines_are_named_and_the_rest_is_written(tmp_path):
    spider = tmp_path / "rferl"
    history = write_history(spider, items=30, runs=2, text_size=50)
    torn = spider / history.runs[-1] / "items.jsonl"
    with open(torn, "a", encoding="utf-8") as fh:
        fh.write('{"url": "https://www.rferl.org/a/1.html", "published": "yesterday"}\n')
        fh.write('{"url": "https://www.rferl.org/a/2.ht')  # a killed run's torn tail
    out = tmp_path / "a.parquet"
    result = dataset(spider, "-O", out)
    assert result.returncode == 1
    assert f"{torn}:17: not a JSON line" in result.stderr
    assert f"{torn}:16: field 'published': 'yesterday' is not an ISO 8601" in result.stderr
    assert pq.read_metadata(out).num_rows == len(history.latest)


def test_parquet_round_trips_a_real_crawl(tmp_path_factory, tmp_path):
    """Every value of a real crawl's items comes back from the Parquet file, typed."""
    crawl = gzip_chunked_crawl(tmp_path_factory)
    out = tmp_path / "a.parquet"
    result = dataset(crawl.folder, "-O", out)
    assert result.returncode == 0, result.stderr
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == len(crawl.items) > 10
    for item, row in zip(crawl.items, rows, strict=True):
        for name, value in item.items():
            got = row[name]
            if isinstance(got, datetime):
                got = got.astimezone(UTC).isoformat().replace("+00:00", "Z")
            assert got == value, (name, got, value)


@pytest.mark.slow
def test_memory_stays_flat_on_a_100000_item_history(tmp_path):
    """Peak RSS of ``scrapy dataset`` on 10,000 and on 100,000 items (10 runs each)."""
    figures = {}
    for items in (10_000, 100_000):
        spider = tmp_path / f"h{items}" / "rferl"
        write_history(spider, items=items, runs=10)
        out = tmp_path / f"h{items}.parquet"
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "dataset", str(spider), "-O", str(out)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        stdout, stderr = proc.stdout.read(), proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        assert proc.returncode == 0, stderr.decode()
        figures[items] = (usage.ru_maxrss / 1024, time.monotonic() - started)
        assert pq.read_metadata(out).num_rows > items * 0.8
        print(stdout.decode().strip())
    small, large = figures[10_000][0], figures[100_000][0]
    print(f"peak RSS: {small:.0f} MiB at 10,000 items, {large:.0f} MiB at 100,000 items")
    assert large < small * 1.25, figures


def test_lines_after_the_last_winner_are_still_counted_and_checked(tmp_path):
    """The second pass stops at the last chosen line; what follows was read in the first."""
    spider = tmp_path / "rferl"
    history = write_history(spider, items=20, runs=2, text_size=50)
    first = (spider / history.runs[0] / "items.jsonl").read_text("utf-8").splitlines()[0]
    stale = json.loads(first) | {"version": 0}  # older than every version: never chosen
    last = spider / history.runs[-1] / "items.jsonl"
    with open(last, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(stale) + "\n" + "{torn\n")
    report = ReadReport()
    chosen = list(select(spider, all_versions=False, filters=Filters(), report=report))
    assert len(chosen) == len(history.latest)
    assert report.lines == history.lines + 1
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"{last}:12: not a JSON line")
