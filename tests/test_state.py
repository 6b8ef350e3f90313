"""The state store on its own: schema, WAL, transactions, refetch rules, item digests."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from newsarchive.state.freshness import item_digest, refetch_reason
from newsarchive.state.rows import FetchRecord, StoredRecord
from newsarchive.state.store import StateStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RECORD = StoredRecord(
    uri="https://www.rferl.org/a/x/1.html",
    date="2026-11-28T11:00:00.000000Z",
    record_id="<urn:uuid:0000>",
    payload_digest="sha1:AAAA",
    run_id="r1",
    filename="newsarchive-r1-00001.warc.gz",
    offset=123,
    length=456,
)


@pytest.fixture
def store(tmp_path):
    store = StateStore(tmp_path / "rferl" / "state.sqlite")
    yield store
    store.close()


def test_wal_mode_and_schema(store):
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"articles", "payloads", "sites", "runs", "meta"} <= tables
    db.close()


def test_fetch_and_item_round_trip(store):
    assert store.article("1") is None
    fetch = FetchRecord(
        url=RECORD.uri,
        fetched_at=NOW,
        etag='"abc"',
        last_modified="Sat, 28 Nov 2026 11:00:00 GMT",
        payload_digest="sha1:AAAA",
        record=RECORD,
        run_id="r1",
    )
    store.record_fetch(
        "1",
        fetch,
        item_digest="sha256:1",
        version=1,
        canonical_url=RECORD.uri,
        published=NOW - timedelta(days=3),
    )
    row = store.article("1")
    assert row is not None
    assert (row.etag, row.version, row.item_digest) == ('"abc"', 1, "sha256:1")
    assert row.last_fetch == NOW and row.published == NOW - timedelta(days=3)
    assert row.record == RECORD
    # A later fetch without an item keeps the item digest and version; its validators (none)
    # replace the old ones, which described another response.
    store.record_fetch("1", FetchRecord(url=RECORD.uri, fetched_at=NOW + timedelta(hours=1)))
    row = store.article("1")
    assert (row.item_digest, row.version) == ("sha256:1", 1)
    assert row.last_fetch == NOW + timedelta(hours=1)
    assert row.etag is None and row.last_modified is None
    store.record_not_modified("1", NOW + timedelta(hours=2), '"def"', None)
    row = store.article("1")
    assert (row.etag, row.last_modified) == ('"def"', None)
    assert row.last_fetch == NOW + timedelta(hours=2)


def test_payload_originals_are_first_writer_wins(store):
    assert store.original("sha1:AAAA") is None
    assert store.remember_original(RECORD) is True
    later = StoredRecord(
        uri="https://x/other", date="d", record_id="<urn:uuid:1>", payload_digest="sha1:AAAA"
    )
    assert store.remember_original(later) is False
    assert store.original("sha1:AAAA") == RECORD


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO articles(article_id) VALUES ('9')")
        raise RuntimeError("boom")
    assert store.article("9") is None


def test_runs_and_sites(store, tmp_path):
    store.begin_run("r1", tmp_path / "r1", NOW)
    store.begin_run("r2", tmp_path / "r2", NOW + timedelta(hours=1))
    store.end_run("r1", NOW, "finished")
    assert store.unfinished_runs() == [("r2", tmp_path / "r2")]
    store.set_site_articles({"www.rferl.org": 5}, "r1")
    assert store.site_articles() == {"www.rferl.org": 5}


def test_store_survives_a_killed_writer(tmp_path):
    """SIGKILL in the middle of a transaction: the committed rows stay, the open one vanishes."""
    path = tmp_path / "state.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from datetime import datetime, UTC
        from newsarchive.state.rows import FetchRecord
        from newsarchive.state.store import StateStore
        store = StateStore({str(path)!r})
        store.record_fetch("1", FetchRecord(url="u", fetched_at=datetime.now(UTC)),
                           item_digest="sha256:1", version=1)
        with store.transaction() as db:
            db.execute("INSERT INTO articles(article_id) VALUES ('2')")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    store = StateStore(path)
    try:
        assert store.article("1").version == 1
        assert store.article("2") is None
        with closing(sqlite3.connect(path)) as db:  # (a with on the connection does not close it)
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("state", "lastmod", "published", "want"),
    [
        (None, None, None, "new"),
        ("fetched", NOW - timedelta(days=1), None, None),  # sitemap older than our fetch
        ("fetched", NOW + timedelta(minutes=5), None, "lastmod"),
        ("fetched", None, NOW - timedelta(hours=47), "refresh_window"),
        ("fetched", None, NOW - timedelta(hours=49), None),
    ],
)
def test_refetch_reason(store, state, lastmod, published, want):
    if state:
        store.record_fetch("1", FetchRecord(url="u", fetched_at=NOW))
    reason = refetch_reason(
        store.article("1"),
        lastmod=lastmod,
        published=published,
        now=NOW + timedelta(minutes=1),
        refresh_window=timedelta(hours=48),
    )
    assert reason == want


def test_item_digest_ignores_provenance_not_content():
    item = {"article_id": "1", "title": "T", "text": "a\n\nb", "authors": ["X"], "tags": []}
    same = {**item, "url": "https://other/", "fetched_at": "now", "warc": {"x": 1}, "run_id": "r"}
    assert item_digest(item) == item_digest(same)
    assert item_digest(item) != item_digest({**item, "text": "a\n\nc"})
    assert item_digest(item).startswith("sha256:")
