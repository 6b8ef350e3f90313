"""What one spider knows across runs: each article's last fetch and item, each archived payload.

One SQLite file per spider and output (:mod:`~newsarchive.state.store`), its tables and their
upgrades (:mod:`~newsarchive.state.schema`), the frozen values it takes and returns
(:mod:`~newsarchive.state.rows`), and the refetch and "did it change" rules that read those
values without SQLite (:mod:`~newsarchive.state.freshness`), what an old run's folder teaches it
(:mod:`~newsarchive.state.fold`: killed-run fold-in and the schema-1 back-fill), the recovery of
killed runs (:mod:`~newsarchive.state.recovery`) and its life in one crawl
(:mod:`~newsarchive.state.session`, where components find it with ``state_for``). Scrapy-free:
the crawl, the repair of a killed run and the tests use it directly. The names below are the
package's public API.
"""

from __future__ import annotations

from newsarchive.state.freshness import CONTENT_FIELDS, item_digest, refetch_reason
from newsarchive.state.rows import ArticleState, FetchRecord, StoredRecord, iso, parse_iso
from newsarchive.state.schema import SCHEMA_VERSION
from newsarchive.state.store import STATE_FILENAME, StateStore

__all__ = [
    "CONTENT_FIELDS",
    "SCHEMA_VERSION",
    "STATE_FILENAME",
    "ArticleState",
    "FetchRecord",
    "StateStore",
    "StoredRecord",
    "iso",
    "item_digest",
    "parse_iso",
    "refetch_reason",
]
