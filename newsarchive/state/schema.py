"""The state store's tables, and how a file written by an earlier version is brought up to date.

Kept apart from the queries so what is on disk, and what each version changed, reads in one
place. ``articles`` (keyed by article key, :mod:`newsarchive.discovery.urlkey`: the Pangea id,
else ``url:<sha1>``; the column keeps its first name, ``article_id``) drives what the next run
fetches and whether an item is new; ``payloads`` maps a payload digest to the full response
record that first stored it, so a later run writes a ``revisit`` record instead of a second
copy. ``aliases`` maps the key of a listed URL to the key of the article it turned out to be (a
redirect, a Pangea id found only in the page), so the next run's discovery finds it.

``template_sites``, ``template_blocks`` and ``template_pages`` are each site's learned template
(:mod:`newsarchive.state.templates`): pages learned from, block counts, and which pages were
learned (a page is counted once, whatever run fetches it again).

Schema 4 adds the re-check and change columns to ``articles`` (``first_seen``, ``removed``,
``removed_reason``, ``fingerprint``, ``hints``, ``rechecked``: :mod:`newsarchive.state.recheck`,
:mod:`newsarchive.changes`); older files get them by ``ALTER TABLE``, empty, which means "no
fingerprint known", so the first change after the upgrade says which version it replaces but not
which fields changed. Schema 3 only adds the three template tables. Schema 2 only adds
``aliases``: a schema-1 file is opened as it is (every Pangea row keeps its key) and marked 2;
:meth:`~newsarchive.state.store.StateStore.needs_backfill` tells the caller to fold in earlier
runs' keyless items once.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 4

#: Columns schema 4 added to ``articles`` (all text, empty in rows written before).
ADDED_ARTICLE_COLUMNS = (
    "first_seen",
    "removed",
    "removed_reason",
    "fingerprint",
    "hints",
    "rechecked",
)

SCHEMA = """
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
    updated_run TEXT,
    first_seen TEXT,
    removed TEXT,
    removed_reason TEXT,
    fingerprint TEXT,
    hints TEXT,
    rechecked TEXT
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
CREATE TABLE IF NOT EXISTS template_sites (site TEXT PRIMARY KEY, pages INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS template_blocks (
    site TEXT NOT NULL,
    block TEXT NOT NULL,
    count INTEGER NOT NULL,
    delta INTEGER NOT NULL,
    PRIMARY KEY (site, block)
);
CREATE TABLE IF NOT EXISTS template_pages (
    site TEXT NOT NULL,
    page TEXT NOT NULL,
    PRIMARY KEY (site, page)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    folder TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    finish_reason TEXT
);
"""


def migrate(db: sqlite3.Connection) -> int | None:
    """Bring an open database to :data:`SCHEMA_VERSION`; return the schema it was found at
    (None: a new file). Every version so far only added tables and columns, so creating the
    missing ones is the whole upgrade."""
    row = (
        db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if _has_meta(db)
        else None
    )
    db.executescript(SCHEMA)
    have = {r[1] for r in db.execute("PRAGMA table_info(articles)").fetchall()}
    for column in ADDED_ARTICLE_COLUMNS:
        if column not in have:
            db.execute(f"ALTER TABLE articles ADD COLUMN {column} TEXT")
    db.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
    return int(row[0]) if row else None


def _has_meta(db: sqlite3.Connection) -> bool:
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        is not None
    )
