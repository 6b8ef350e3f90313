"""The SQLite state of one spider: the queries a crawl, the repair of a killed run and the tests
make of it.

SQLite in WAL mode (readers never block the writer; a process killed mid-transaction leaves the
last committed state, the WAL is rolled back on the next open). Every write is one short
transaction. Scrapy-free. The tables are described in :mod:`newsarchive.state.schema`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from newsarchive.state.rows import (
    ArticleState,
    FetchRecord,
    StoredRecord,
    iso,
    json_object,
    json_text,
    parse_iso,
)
from newsarchive.state.schema import migrate

STATE_FILENAME = "state.sqlite"
#: Where the fields of a :class:`StoredRecord` are: ``payloads`` names its columns after them;
#: ``articles`` holds the article's last full record beside the article's own columns.
_PAYLOAD_COLUMNS = (
    "uri",
    "date",
    "record_id",
    "payload_digest",
    "run_id",
    "filename",
    "offset",
    "length",
)
_ARTICLE_RECORD_COLUMNS = (
    "record_uri",
    "record_date",
    "record_id",
    "payload_digest",
    "record_run",
    "record_file",
    "record_offset",
    "record_length",
)


def _article_state(row: sqlite3.Row) -> ArticleState:
    record = _stored_record(row, _ARTICLE_RECORD_COLUMNS) if row["record_id"] else None
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
        first_seen=parse_iso(row["first_seen"]),
        removed=parse_iso(row["removed"]),
        removed_reason=row["removed_reason"],
        fingerprint=json_object(row["fingerprint"]),
        hints=json_object(row["hints"]),
        rechecked=parse_iso(row["rechecked"]),
    )


def _stored_record(row: sqlite3.Row, columns: tuple[str, ...]) -> StoredRecord:
    """The :class:`StoredRecord` in ``row``, read from ``columns`` (one of the two above)."""
    fields = zip(_PAYLOAD_COLUMNS, columns, strict=True)
    return StoredRecord(**{field: row[column] for field, column in fields})


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
        #: Schema of the file as found (None: a new file).
        self.found_schema: int | None = migrate(self._db)

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

    def aliases_of(self, key: str) -> list[str]:
        """The listed URLs' keys known to be ``key`` (``scrapy history`` reads them too)."""
        rows = self._db.execute("SELECT alias FROM aliases WHERE article_id = ?", (key,))
        return [row[0] for row in rows.fetchall()]

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
        return _article_state(row) if row is not None else None

    def versioned_articles(self) -> Iterator[ArticleState]:
        """Every article that gave an item (the candidates of a re-check), by key."""
        rows = self._db.execute(
            "SELECT * FROM articles WHERE version > 0 ORDER BY article_id"
        ).fetchall()
        for row in rows:
            yield _article_state(row)

    def record_fetch(
        self,
        article_id: str,
        fetch: FetchRecord,
        *,
        item_digest: str | None = None,
        version: int | None = None,
        canonical_url: str | None = None,
        published: datetime | None = None,
        fingerprint: Mapping[str, Any] | None = None,
        hints: Mapping[str, Any] | None = None,
    ) -> None:
        """Settle one fetch: validators, payload, last full record and (if any) the new item.

        A new item also ends a removal (the article is back) and stores what it said
        (``fingerprint``); ``hints`` are what discovery knew, kept for the next re-check.

        Called only once whatever the fetch produced is durable (the item line written), so a
        run killed before that fetches the article again instead of losing its item.
        """
        record = fetch.record
        article_id = self.resolve(article_id)
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO articles(article_id) VALUES (?)", (article_id,))
            db.execute(
                """UPDATE articles SET url = ?, last_fetch = ?, etag = ?, last_modified = ?,
                       payload_digest = COALESCE(?, payload_digest), updated_run = ?,
                       first_seen = COALESCE(first_seen, ?), hints = COALESCE(?, hints)
                   WHERE article_id = ?""",
                (
                    fetch.url,
                    iso(fetch.fetched_at),
                    fetch.etag,
                    fetch.last_modified,
                    fetch.payload_digest,
                    fetch.run_id,
                    iso(fetch.fetched_at),
                    json_text(hints),
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
                           published = COALESCE(?, published),
                           fingerprint = COALESCE(?, fingerprint),
                           removed = NULL, removed_reason = NULL
                       WHERE article_id = ?""",
                    (
                        item_digest,
                        version or 1,
                        canonical_url,
                        iso(published),
                        json_text(fingerprint),
                        article_id,
                    ),
                )

    def mark_rechecked(self, article_id: str, moment: datetime) -> None:
        """A planned re-check was answered; ``moment`` is the schedule's clock for it."""
        with self.transaction() as db:
            db.execute(
                "UPDATE articles SET rechecked = ? WHERE article_id = ?",
                (iso(moment), self.resolve(article_id)),
            )

    def record_removed(
        self, article_id: str, fetched_at: datetime, reason: str, run_id: str | None
    ) -> None:
        """The article is gone (``reason``: ``http_404``, ``http_410``, ``redirect``): remember
        when, and when we checked. Its last version and record stay: a return is compared to
        them, and the validators are not sent while it is gone."""
        article_id = self.resolve(article_id)
        with self.transaction() as db:
            db.execute(
                """UPDATE articles SET last_fetch = ?, updated_run = ?,
                       removed = COALESCE(removed, ?), removed_reason = ?
                   WHERE article_id = ?""",
                (iso(fetched_at), run_id, iso(fetched_at), reason, article_id),
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
        return _stored_record(row, _PAYLOAD_COLUMNS)

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

    # -- site templates (newsarchive.state.templates) -----------------------------------------
    def template_page_learned(self, site: str, page: str) -> bool:
        """Was this page (an article key) of ``site`` learned from already?"""
        row = self._db.execute(
            "SELECT 1 FROM template_pages WHERE site = ? AND page = ?", (site, page)
        ).fetchone()
        return row is not None

    def load_template(self, site: str) -> tuple[int, dict[str, list[int]]] | None:
        """(pages learned from, block → [count, delta]) of ``site``; None when never learned."""
        with self.transaction() as db:
            row = db.execute("SELECT pages FROM template_sites WHERE site = ?", (site,)).fetchone()
            if row is None:
                return None
            rows = db.execute(
                "SELECT block, count, delta FROM template_blocks WHERE site = ?", (site,)
            ).fetchall()
        return int(row[0]), {block: [int(count), int(delta)] for block, count, delta in rows}

    def save_template(
        self, site: str, pages: int, counts: Mapping[str, list[int]], learned: Iterable[str]
    ) -> None:
        """Replace the counts of ``site`` and mark the ``learned`` pages, in one transaction."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO template_sites(site, pages) VALUES (?, ?)", (site, pages)
            )
            db.execute("DELETE FROM template_blocks WHERE site = ?", (site,))
            db.executemany(
                "INSERT INTO template_blocks(site, block, count, delta) VALUES (?, ?, ?, ?)",
                [(site, block, count, delta) for block, (count, delta) in counts.items()],
            )
            db.executemany(
                "INSERT OR IGNORE INTO template_pages(site, page) VALUES (?, ?)",
                [(site, page) for page in learned],
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
