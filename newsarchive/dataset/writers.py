"""Write selected item lines as Parquet, JSONL or CSV, a bounded batch at a time.

The output is written next to its final name and renamed at the end, so a reader never sees a
half-written file and a failed export leaves the previous one in place.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from newsarchive.dataset.columns import (
    BadValue,
    Column,
    arrow_schema,
    csv_cell,
    csv_columns,
    item_columns,
    to_row,
)
from newsarchive.dataset.history import Line, ReadReport

#: Rows per Parquet row group / record batch: what is held in memory at once.
BATCH_ROWS = 2000
FORMATS = ("parquet", "jsonl", "csv")


class Sink(Protocol):
    def write(self, line: Line) -> None: ...
    def close(self) -> None: ...


def format_of(path: Path) -> str:
    """The output format named by the file's extension."""
    suffix = path.suffix.lower().lstrip(".")
    suffix = {"jsonlines": "jsonl", "pq": "parquet"}.get(suffix, suffix)
    if suffix not in FORMATS:
        raise ValueError(f"{path}: name the output .parquet, .jsonl or .csv (got {path.suffix!r})")
    return suffix


class ParquetSink:
    """Rows typed by the item schema, written in row groups of :data:`BATCH_ROWS`."""

    def __init__(self, path: Path, columns: tuple[Column, ...], report: ReadReport) -> None:
        self.columns = columns
        self.schema = arrow_schema(columns)
        self.report = report
        self.rows: list[dict] = []
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def write(self, line: Line) -> None:
        try:
            self.rows.append(to_row(self.columns, line.item))
        except BadValue as exc:
            self.report.problems.append(f"{line.path}:{line.number}: {exc}")
            return
        if len(self.rows) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            self.writer.write_batch(pa.RecordBatch.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self._flush()
        self.writer.close()


class JsonlSink:
    """The item lines exactly as the crawl wrote them."""

    def __init__(self, path: Path) -> None:
        self.fh = open(path, "wb")  # noqa: SIM115 - closed by close()

    def write(self, line: Line) -> None:
        self.fh.write(line.raw if line.raw.endswith(b"\n") else line.raw + b"\n")

    def close(self) -> None:
        self.fh.close()


class CsvSink:
    """Flat columns (:func:`newsarchive.dataset.columns.csv_columns`), a header row first."""

    def __init__(self, path: Path, columns: tuple[Column, ...], report: ReadReport) -> None:
        self.columns = csv_columns(columns)
        self.report = report
        self.fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - close()
        self.writer = csv.writer(self.fh)
        self.writer.writerow([c.name for c in self.columns])

    def write(self, line: Line) -> None:
        try:
            cells = [csv_cell(c, line.item) for c in self.columns]
        except BadValue as exc:
            self.report.problems.append(f"{line.path}:{line.number}: {exc}")
            return
        self.writer.writerow(cells)

    def close(self) -> None:
        self.fh.close()


def write_dataset(lines: Iterable[Line], path: Path, report: ReadReport) -> int:
    """Write ``lines`` to ``path`` in the format its extension names; the rows written."""
    kind = format_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    columns = item_columns()
    sink: Sink
    if kind == "parquet":
        sink = ParquetSink(tmp, columns, report)
    elif kind == "csv":
        sink = CsvSink(tmp, columns, report)
    else:
        sink = JsonlSink(tmp)
    written = 0
    try:
        for line in lines:
            before = len(report.problems)
            sink.write(line)
            written += len(report.problems) == before
        sink.close()
        os.replace(tmp, path)
    except BaseException:
        sink.close()
        tmp.unlink(missing_ok=True)
        raise
    return written
