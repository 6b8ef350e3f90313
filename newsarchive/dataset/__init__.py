"""One typed dataset from every run of a spider (``scrapy dataset``); no Scrapy here.

Public API: :func:`select` (the item lines, latest version per article or all, filtered),
:func:`write_dataset` (Parquet, JSONL or CSV), :func:`item_columns` / :func:`arrow_schema` (the
column types, from the item JSON Schema) and :func:`csv_columns` (the flat CSV names).
"""

from __future__ import annotations

from newsarchive.dataset.columns import arrow_schema, csv_columns, item_columns
from newsarchive.dataset.history import Filters, ReadReport, parse_day, run_folders, select
from newsarchive.dataset.writers import FORMATS, format_of, write_dataset

__all__ = [
    "FORMATS",
    "Filters",
    "ReadReport",
    "arrow_schema",
    "csv_columns",
    "format_of",
    "item_columns",
    "parse_day",
    "run_folders",
    "select",
    "write_dataset",
]
