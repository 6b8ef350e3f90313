"""What one spider knows across runs: each article's last fetch and item, each archived payload.

SQLite in WAL mode (readers never block the writer; a process killed mid-transaction leaves the
last committed state, the WAL is rolled back on the next open). Every write is one short
transaction. Scrapy-free: the crawl, the repair of a killed run and the tests use it directly.

Two tables matter: ``articles`` (keyed by article key, :mod:`newsarchive.discovery.urlkey`: the
Pangea id, else ``url:<sha1>``; the column keeps its first name, ``article_id``) drives what the
next run fetches and whether an item is new; ``payloads`` maps a payload digest to the full
response record that first stored it, so a later run writes a ``revisit`` record instead of a
second copy. ``aliases`` maps the key of a listed URL to the key of the article it turned out to
be (a redirect, a Pangea id found only in the page), so the next run's discovery finds it.

Schema 2 only adds ``aliases``: a schema-1 file is opened as it is (every Pangea row keeps its
key) and marked 2; :meth:`StateStore.needs_backfill` tells the caller to fold in earlier runs'
keyless items once.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2
STATE_FILENAME = "state.sqlite"

#: Item fields that make up "what the article says". Provenance (url, fetched_at, warc, run_id,
#: discovered_from, http_status, extractor) changes on every fetch and is left out, so an
#: unchanged article has an unchanged digest.
CONTENT_FIELDS = (
    "article_id",
    "site",
    "canonical_url",
    "language",
    "title",
    "description",
    "authors",
    "published",
    "modified",
    "section",
    "tags",
    "image",
    "text",
    "legal_notice",
    "publication",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    url TEXT,
    canonical_url TEXT,
    published TEXT,
    last_fetch TEXT,
    etag TEXT,
    last_modified TEXT,
    payload_digest TEXT,
    item_digest TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    record_uri TEXT,
    record_date TEXT,
    record_id TEXT,
    record_file TEXT,
    record_offset INTEGER,
    record_length INTEGER,
    record_run TEXT,
    updated_run TEXT
);
CREATE TABLE IF NOT EXISTS payloads (
    payload_digest TEXT PRIMARY KEY,
    uri TEXT NOT NULL,
    date TEXT NOT NULL,
    record_id TEXT NOT NULL,
    run_id TEXT,
    filename TEXT,
    offset INTEGER,
    length INTEGER
);
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, article_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, articles INTEGER, run_id TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    folder TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    finish_reason TEXT
);
"""


@dataclass(frozen=True)
class StoredRecord:
    """A full ``response`` record some run archived: what a ``revisit`` record refers to."""

    uri: str
    date: str
    """``WARC-Date`` of the record."""
    record_id: str
    payload_digest: str | None = None
    run_id: str | None = None
    filename: str | None = None
    """WARC file name, relative to the run folder of ``run_id``."""
    offset: int | None = None
    length: int | None = None


@dataclass(frozen=True)
class ArticleState:
    """The state store's row for one article."""

    article_id: str
    url: str | None = None
    canonical_url: str | None = None
    published: datetime | None = None
    last_fetch: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    item_digest: str | None = None
    version: int = 0
    """Number of distinct items emitted so far (0: fetched, but no item yet)."""
    record: StoredRecord | None = None
    """The last full response record of this article (revisits refer to it)."""


@dataclass(frozen=True)
class FetchRecord:
    """What one fetch of an article established (written when the fetch is settled)."""

    url: str
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    record: StoredRecord | None = None
    run_id: str | None = None


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 text for storage (sorts and compares as text)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def parse_iso(value: str | None) -> datetime | None:
    """Inverse of :func:`iso`; also accepts the ``Z`` suffix items use."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def item_digest(item: Mapping[str, Any]) -> str:
    """Digest of what an item says (:data:`CONTENT_FIELDS`), stable across runs and key order."""
    content = {name: item.get(name) for name in CONTENT_FIELDS}
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def refetch_reason(
    state: ArticleState | None,
    *,
    lastmod: datetime | None,
    published: datetime | None,
    now: datetime,
    refresh_window: timedelta,
) -> str | None:
    """Why a discovered article must be fetched, or None when the last fetch still stands.

    New or never settled: always. Known: only when the sitemap says it changed after our last
    fetch, or while it is young enough to be still edited (the refresh window).
    """
    if state is None or state.last_fetch is None:
        return "new"
    if lastmod is not None and lastmod > state.last_fetch:
        return "lastmod"
    published = published or state.published
    if published is not None and now - published < refresh_window:
        return "refresh_window"
    return None


class StateStore:
    """The SQLite state of one spider on one output (``<output>/<spider>/state.sqlite``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE) in transaction().
        self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(
                f"state store {self.path}: SQLite refused WAL mode ({mode}); put "
                "NEWSARCHIVE_STATE_PATH on a local file system"
            )
        # NORMAL in WAL mode survives a killed process (not a power cut) at a fraction of
        # FULL's fsyncs; losing the last commits to a power cut only costs re-fetches.
        self._db.execute("PRAGMA synchronous=NORMAL")
        row = (
            self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if self._has_meta()
            else None
        )
        #: Schema of the file as found (None: a new file).
        self.found_schema: int | None = int(row[0]) if row else None
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )

    def _has_meta(self) -> bool:
        return (
            self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
            is not None
        )

    def needs_backfill(self) -> bool:
        """A file written before article keys (schema 1) whose non-Pangea items were never
        settled: earlier runs' items must be folded in once, else they come out again."""
        if self.found_schema is None or self.found_schema >= 2:
            return False
        done = self._db.execute("SELECT value FROM meta WHERE key = 'backfilled'").fetchone()
        return done is None

    def mark_backfilled(self) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('backfilled', '2')")

    def finished_runs(self) -> list[tuple[str, Path]]:
        """Runs that ended (any way), newest first."""
        rows = self._db.execute(
            "SELECT run_id, folder FROM runs WHERE ended IS NOT NULL ORDER BY started DESC"
        ).fetchall()
        return [(row["run_id"], Path(row["folder"])) for row in rows]

    def close(self) -> None:
        """Checkpoint and close (the WAL file is folded back into the database)."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: all of it is committed, or none of it."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- articles ----------------------------------------------------------------------------
    def resolve(self, key: str) -> str:
        """The key the article is stored under: ``key`` itself, or what it is an alias of."""
        if self._db.execute("SELECT 1 FROM articles WHERE article_id = ?", (key,)).fetchone():
            return key
        row = self._db.execute("SELECT article_id FROM aliases WHERE alias = ?", (key,)).fetchone()
        return row[0] if row is not None else key

    def add_alias(self, alias: str, key: str) -> None:
        """Remember that the URL keyed ``alias`` is the article stored as ``key``."""
        if not alias or not key or alias == key:
            return
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO aliases(alias, article_id) VALUES (?, ?)", (alias, key)
            )

    def article(self, article_id: str) -> ArticleState | None:
        """The row of one article (by key or alias), or None when it was never settled."""
        row = self._db.execute(
            "SELECT * FROM articles WHERE article_id = ?", (self.resolve(article_id),)
        ).fetchone()
        if row is None:
            return None
        record = None
        if row["record_id"]:
            record = StoredRecord(
                uri=row["record_uri"],
                date=row["record_date"],
                record_id=row["record_id"],
                payload_digest=row["payload_digest"],
                run_id=row["record_run"],
                filename=row["record_file"],
                offset=row["record_offset"],
                length=row["record_length"],
            )
        return ArticleState(
            article_id=row["article_id"],
            url=row["url"],
            canonical_url=row["canonical_url"],
            published=parse_iso(row["published"]),
            last_fetch=parse_iso(row["last_fetch"]),
            etag=row["etag"],
            last_modified=row["last_modified"],
            payload_digest=row["payload_digest"],
            item_digest=row["item_digest"],
            version=row["version"],
            record=record,
        )

    def article_count(self) -> int:
        """Number of articles the store knows."""
        return self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def record_fetch(
        self,
        article_id: str,
        fetch: FetchRecord,
        *,
        item_digest: str | None = None,
        version: int | None = None,
        canonical_url: str | None = None,
        published: datetime | None = None,
    ) -> None:
        """Settle one fetch: validators, payload, last full record and (if any) the new item.

        Called only once whatever the fetch produced is durable (the item line written), so a
        run killed before that fetches the article again instead of losing its item.
        """
        record = fetch.record
        article_id = self.resolve(article_id)
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO articles(article_id) VALUES (?)", (article_id,))
            db.execute(
                """UPDATE articles SET url = ?, last_fetch = ?, etag = ?, last_modified = ?,
                       payload_digest = COALESCE(?, payload_digest), updated_run = ?
                   WHERE article_id = ?""",
                (
                    fetch.url,
                    iso(fetch.fetched_at),
                    fetch.etag,
                    fetch.last_modified,
                    fetch.payload_digest,
                    fetch.run_id,
                    article_id,
                ),
            )
            if record is not None:
                db.execute(
                    """UPDATE articles SET record_uri = ?, record_date = ?, record_id = ?,
                           record_file = ?, record_offset = ?, record_length = ?, record_run = ?
                       WHERE article_id = ?""",
                    (
                        record.uri,
                        record.date,
                        record.record_id,
                        record.filename,
                        record.offset,
                        record.length,
                        record.run_id,
                        article_id,
                    ),
                )
            if item_digest is not None:
                db.execute(
                    """UPDATE articles SET item_digest = ?, version = ?,
                           canonical_url = COALESCE(?, canonical_url),
                           published = COALESCE(?, published)
                       WHERE article_id = ?""",
                    (item_digest, version or 1, canonical_url, iso(published), article_id),
                )

    def record_not_modified(
        self, article_id: str, fetched_at: datetime, etag: str | None, last_modified: str | None
    ) -> None:
        """A 304: the stored version still stands; remember when we checked."""
        article_id = self.resolve(article_id)
        with self.transaction() as db:
            db.execute(
                """UPDATE articles SET last_fetch = ?, etag = COALESCE(?, etag),
                       last_modified = COALESCE(?, last_modified)
                   WHERE article_id = ?""",
                (iso(fetched_at), etag, last_modified, article_id),
            )

    # -- payloads ----------------------------------------------------------------------------
    def original(self, payload_digest: str) -> StoredRecord | None:
        """The full response record that first stored this payload, in any run."""
        row = self._db.execute(
            "SELECT * FROM payloads WHERE payload_digest = ?", (payload_digest,)
        ).fetchone()
        if row is None:
            return None
        return StoredRecord(
            uri=row["uri"],
            date=row["date"],
            record_id=row["record_id"],
            payload_digest=row["payload_digest"],
            run_id=row["run_id"],
            filename=row["filename"],
            offset=row["offset"],
            length=row["length"],
        )

    def remember_original(self, record: StoredRecord) -> bool:
        """Register a full response record for its payload digest; False if one is known."""
        if not record.payload_digest:
            return False
        with self.transaction() as db:
            cursor = db.execute(
                """INSERT OR IGNORE INTO payloads
                   (payload_digest, uri, date, record_id, run_id, filename, offset, length)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    record.payload_digest,
                    record.uri,
                    record.date,
                    record.record_id,
                    record.run_id,
                    record.filename,
                    record.offset,
                    record.length,
                ),
            )
            return cursor.rowcount == 1

    # -- sites -------------------------------------------------------------------------------
    def site_articles(self) -> dict[str, int]:
        """Articles discovered per site by the last finished run that covered the site."""
        rows = self._db.execute("SELECT site, articles FROM sites").fetchall()
        return {row["site"]: row["articles"] for row in rows}

    def set_site_articles(self, counts: Mapping[str, int], run_id: str) -> None:
        """Store this run's per-site discovery counts (for the "site went silent" check)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO sites(site, articles, run_id) VALUES (?, ?, ?)",
                [(site, count, run_id) for site, count in counts.items()],
            )

    # -- runs --------------------------------------------------------------------------------
    def begin_run(self, run_id: str, folder: str | Path, started: datetime) -> None:
        """Register a run before it writes anything, so a kill leaves it visibly unfinished."""
        with self.transaction() as db:
            db.execute(
                """INSERT OR REPLACE INTO runs(run_id, folder, started, ended, finish_reason)
                   VALUES (?, ?, ?, NULL, NULL)""",
                (run_id, str(folder), iso(started)),
            )

    def end_run(self, run_id: str, ended: datetime, finish_reason: str) -> None:
        """Mark a run ended (cleanly, interrupted, or killed and repaired later)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET ended = ?, finish_reason = ? WHERE run_id = ?",
                (iso(ended), finish_reason, run_id),
            )

    def unfinished_runs(self) -> list[tuple[str, Path]]:
        """Runs that began and never ended: killed (or still running, if unlocked)."""
        rows = self._db.execute(
            "SELECT run_id, folder FROM runs WHERE ended IS NULL ORDER BY started"
        ).fetchall()
        return [(row["run_id"], Path(row["folder"])) for row in rows]
