"""The cross-run state of one spider in Redis, for crawls whose workers run on several machines.

Same questions and answers as :class:`~newsarchive.state.store.StateStore` (SQLite, the
single-machine default), kept where every worker reaches them. Why Redis and not a shared SQLite
file: SQLite's WAL mode needs shared memory, so one host; over NFS its locks are unreliable. The
Redis server already holds the shared queue, and every write here is one atomic command or one
``MULTI``/``EXEC`` transaction, so concurrent workers never see half a write and a worker killed
mid-write leaves either all of it or none. What a killed worker archived and emitted but did not
settle is folded in by the worker that recovers it (:mod:`newsarchive.state.fold`).

Keys (``<prefix>`` is ``newsarchive:<spider>:state``): ``<prefix>:article:<key>`` (a hash per
article), ``<prefix>:aliases``, ``<prefix>:payloads`` (digest → JSON record), ``<prefix>:sites``
and ``<prefix>:runs`` (hashes of JSON). Scrapy-free.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
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

#: Fields of an article hash that hold the article's last full record.
_RECORD_FIELDS = {
    "uri": "record_uri",
    "date": "record_date",
    "record_id": "record_id",
    "payload_digest": "record_payload_digest",
    "run_id": "record_run",
    "filename": "record_file",
    "offset": "record_offset",
    "length": "record_length",
}


def state_prefix(spider: str) -> str:
    """The key prefix of one spider's cross-run state."""
    return f"newsarchive:{spider}:state"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _int(value: Any) -> int | None:
    text = _text(value)
    return int(text) if text not in (None, "") else None


class RedisStateStore:
    """The state of one spider in one Redis database; the API of ``StateStore``."""

    #: Redis files are never upgraded from the SQLite schema 1 (see ``StateStore``).
    found_schema: int | None = None

    def __init__(self, client: Any, prefix: str, owned: bool = False) -> None:
        self._redis = client
        self._owned = owned
        self.prefix = prefix
        self.path = Path(prefix)  # what messages name as "the state" (no file)

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # -- lifecycle ---------------------------------------------------------------------------
    def needs_backfill(self) -> bool:
        return False

    def mark_backfilled(self) -> None:
        """Nothing to back-fill: the Redis state starts with article keys."""

    def close(self) -> None:
        """Close the client if this store opened it for itself."""
        if self._owned:
            self._redis.close()

    # -- articles ----------------------------------------------------------------------------
    def resolve(self, key: str) -> str:
        if self._redis.exists(self._key("article", key)):
            return key
        alias = self._redis.hget(self._key("aliases"), key)
        return _text(alias) or key

    def add_alias(self, alias: str, key: str) -> None:
        if alias and key and alias != key:
            self._redis.hset(self._key("aliases"), alias, key)

    def article(self, article_id: str) -> ArticleState | None:
        key = self.resolve(article_id)
        raw = self._redis.hgetall(self._key("article", key))
        if not raw:
            return None
        return self._state(key, raw)

    def _state(self, key: str, raw: Mapping[Any, Any]) -> ArticleState:
        row = {_text(k): _text(v) for k, v in raw.items()}
        record = None
        if row.get("record_id"):
            values = {field: row.get(column) for field, column in _RECORD_FIELDS.items()}
            values["offset"] = _int(values["offset"])
            values["length"] = _int(values["length"])
            record = StoredRecord(**values)  # type: ignore[arg-type]
        return ArticleState(
            article_id=key,
            url=row.get("url"),
            canonical_url=row.get("canonical_url"),
            published=parse_iso(row.get("published")),
            last_fetch=parse_iso(row.get("last_fetch")),
            etag=row.get("etag"),
            last_modified=row.get("last_modified"),
            payload_digest=row.get("payload_digest"),
            item_digest=row.get("item_digest"),
            version=_int(row.get("version")) or 0,
            record=record,
            first_seen=parse_iso(row.get("first_seen")),
            removed=parse_iso(row.get("removed")),
            removed_reason=row.get("removed_reason"),
            fingerprint=json_object(row.get("fingerprint")),
            hints=json_object(row.get("hints")),
            rechecked=parse_iso(row.get("rechecked")),
        )

    def versioned_articles(self) -> Iterable[ArticleState]:
        """Every article that gave an item (the candidates of a re-check), by key."""
        prefix = self._key("article", "")
        keys = sorted(_text(k) or "" for k in self._redis.scan_iter(match=prefix + "*", count=1000))
        for name in keys:
            raw = self._redis.hgetall(name)
            state = self._state(name[len(prefix) :], raw) if raw else None
            if state is not None and state.version > 0:
                yield state

    def aliases_of(self, key: str) -> list[str]:
        raw = self._redis.hgetall(self._key("aliases"))
        return sorted(_text(a) or "" for a, k in raw.items() if _text(k) == key)

    def mark_rechecked(self, article_id: str, moment: datetime) -> None:
        key = self._key("article", self.resolve(article_id))
        if self._redis.exists(key):
            self._redis.hset(key, "rechecked", iso(moment))

    def record_removed(
        self, article_id: str, fetched_at: datetime, reason: str, run_id: str | None
    ) -> None:
        """See ``StateStore.record_removed`` (the first removal moment is kept)."""
        key = self._key("article", self.resolve(article_id))
        if not self._redis.exists(key):
            return
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(key, "removed", iso(fetched_at))
        values = {"last_fetch": iso(fetched_at), "removed_reason": reason, "run": run_id}
        pipe.hset(key, mapping={k: v for k, v in values.items() if v is not None})
        pipe.execute()

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
        """Settle one fetch, in one transaction (see ``StateStore.record_fetch``)."""
        key = self._key("article", self.resolve(article_id))
        values: dict[str, Any] = {
            "url": fetch.url,
            "last_fetch": iso(fetch.fetched_at),
            "run": fetch.run_id,
            "payload_digest": fetch.payload_digest,  # kept when None (COALESCE)
            "hints": json_text(hints),  # kept when None
        }
        cleared = [name for name in ("etag", "last_modified") if getattr(fetch, name) is None]
        values["etag"] = fetch.etag
        values["last_modified"] = fetch.last_modified
        if fetch.record is not None:
            for field, column in _RECORD_FIELDS.items():
                values[column] = getattr(fetch.record, field)
        if item_digest is not None:
            values["item_digest"] = item_digest
            values["version"] = version or 1
            values["canonical_url"] = canonical_url
            values["published"] = iso(published)
            values["fingerprint"] = json_text(fingerprint)
            cleared += ["removed", "removed_reason"]  # a new item ends a removal
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(key, "first_seen", iso(fetch.fetched_at))
        if cleared:
            pipe.hdel(key, *cleared)
        pipe.hset(key, mapping={k: v for k, v in values.items() if v is not None})
        pipe.execute()

    def record_not_modified(
        self, article_id: str, fetched_at: datetime, etag: str | None, last_modified: str | None
    ) -> None:
        key = self._key("article", self.resolve(article_id))
        if not self._redis.exists(key):
            return
        values = {"last_fetch": iso(fetched_at), "etag": etag, "last_modified": last_modified}
        self._redis.hset(key, mapping={k: v for k, v in values.items() if v is not None})

    # -- payloads ----------------------------------------------------------------------------
    def original(self, payload_digest: str) -> StoredRecord | None:
        raw = self._redis.hget(self._key("payloads"), payload_digest)
        return StoredRecord(**json.loads(raw)) if raw else None

    def remember_original(self, record: StoredRecord) -> bool:
        """Register a record for its payload; False if one is known (first writer wins)."""
        if not record.payload_digest:
            return False
        body = json.dumps(asdict(record), sort_keys=True)
        return bool(self._redis.hsetnx(self._key("payloads"), record.payload_digest, body))

    # -- sites -------------------------------------------------------------------------------
    def site_articles(self) -> dict[str, int]:
        raw = self._redis.hgetall(self._key("sites"))
        return {_text(k) or "": json.loads(v)["articles"] for k, v in raw.items()}

    def set_site_articles(self, counts: Mapping[str, int], run_id: str) -> None:
        if counts:
            self._redis.hset(
                self._key("sites"),
                mapping={
                    site: json.dumps({"articles": n, "run_id": run_id})
                    for site, n in counts.items()
                },
            )

    # -- site templates (newsarchive.state.templates) -----------------------------------------
    def template_page_learned(self, site: str, page: str) -> bool:
        return bool(self._redis.sismember(self._key("template", site, "pages"), page))

    def load_template(self, site: str) -> tuple[int, dict[str, list[int]]] | None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(self._key("template", site, "count"))
        pipe.hgetall(self._key("template", site, "blocks"))
        pages, blocks = pipe.execute()
        if pages is None:
            return None
        return int(pages), {_text(k) or "": json.loads(v) for k, v in blocks.items()}

    def save_template(
        self, site: str, pages: int, counts: Mapping[str, list[int]], learned: Iterable[str]
    ) -> None:
        """Replace the counts of ``site`` and mark the ``learned`` pages, in one transaction.

        Workers learning one site at once each write their own counts (the last write wins):
        a site's template is a statistic over its pages, and a page is learned once per run."""
        blocks = self._key("template", site, "blocks")
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._key("template", site, "count"), pages)
        pipe.delete(blocks)
        if counts:
            pipe.hset(blocks, mapping={block: json.dumps(v) for block, v in counts.items()})
        learned = list(learned)
        if learned:
            pipe.sadd(self._key("template", site, "pages"), *learned)
        pipe.execute()

    # -- runs --------------------------------------------------------------------------------
    def begin_run(self, run_id: str, folder: str | Path, started: datetime) -> None:
        """Register the run once (the first worker); later workers keep its start."""
        body = json.dumps({"folder": str(folder), "started": iso(started), "ended": None})
        self._redis.hsetnx(self._key("runs"), run_id, body)

    def end_run(self, run_id: str, ended: datetime, finish_reason: str) -> None:
        """Record the latest worker end of the run (the merge says how the run as a whole ended)."""
        raw = self._redis.hget(self._key("runs"), run_id)
        run = json.loads(raw) if raw else {"folder": None, "started": None}
        run.update(ended=iso(ended), finish_reason=finish_reason)
        self._redis.hset(self._key("runs"), run_id, json.dumps(run))

    def unfinished_runs(self) -> list[tuple[str, Path]]:
        """Killed workers are recovered by their run's next worker, not by a later run."""
        return []

    def finished_runs(self) -> list[tuple[str, Path]]:
        runs = []
        for run_id, raw in self._redis.hgetall(self._key("runs")).items():
            run = json.loads(raw)
            if run.get("ended") and run.get("folder"):
                runs.append((run.get("started") or "", _text(run_id) or "", Path(run["folder"])))
        return [(run_id, folder) for _, run_id, folder in sorted(runs, reverse=True)]
