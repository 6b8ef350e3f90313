"""The state store's life in one crawl, and how every component reaches it.

Opened once per crawl by :class:`~newsarchive.extensions.statestore.StateStoreExtension`
(killed runs recovered, a schema-1 file back-filled, the run begun; a distributed run's shared
Redis store is only begun: its workers recover each other), closed when the engine stops. The
open session hangs on the crawler as :data:`CRAWLER_ATTRIBUTE`, so a middleware, pipeline or
spider asks :func:`state_for` instead of importing the extension. Scrapy-free: the crawler is
only something to hang an attribute on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.state.fold import backfill_article_keys
from newsarchive.state.recovery import RecoveredRun, recover_runs
from newsarchive.state.redisstore import RedisStateStore
from newsarchive.state.store import StateStore

#: Either store: one SQLite file per spider, or the Redis state of a distributed run.
AnyStateStore = StateStore | RedisStateStore

#: The attribute of Scrapy's ``Crawler`` that holds the crawl's :class:`StateSession`.
CRAWLER_ATTRIBUTE = "newsarchive_state"


@dataclass
class StateSession:
    """The open state store of one crawl and what opening it did."""

    store: AnyStateStore | None
    run_id: str
    recovered: list[RecoveredRun] = field(default_factory=list)
    backfilled: int | None = None
    """Items settled by the schema-1 back-fill (None: the file needed none)."""

    @classmethod
    def open(
        cls,
        store: AnyStateStore,
        run_id: str,
        run_folder: Path,
        spider_folder: Path | None,
    ) -> StateSession:
        """Recover the killed runs of ``spider_folder`` and back-fill a schema-1 file (a SQLite
        store; ``spider_folder`` None: a distributed run's, which its workers recover), then
        begin this run. The store is closed again if any of it fails."""
        try:
            recovered: list[RecoveredRun] = []
            backfilled = None
            if isinstance(store, StateStore) and spider_folder is not None:
                recovered = recover_runs(store, spider_folder)
                backfilled = backfill_article_keys(store)
            store.begin_run(run_id, run_folder, datetime.now(UTC))
        except BaseException:
            store.close()
            raise
        return cls(store, run_id, recovered, backfilled)

    def close(self, finish_reason: str) -> None:
        """End the run in the store and close it (idempotent)."""
        if self.store is None:
            return
        self.store.end_run(self.run_id, datetime.now(UTC), finish_reason)
        self.store.close()
        self.store = None

    def repairs(self) -> list[dict[str, Any]]:
        """What the start of this crawl repaired in killed runs (for the manifest)."""
        return [run.as_dict() for run in self.recovered]


def attach(crawler: Any, session: StateSession) -> None:
    """Make ``session`` the crawl's state (what :func:`state_for` answers)."""
    setattr(crawler, CRAWLER_ATTRIBUTE, session)


def session_for(crawler: Any) -> StateSession | None:
    """The crawl's state session, or None when the state extension is off."""
    return getattr(crawler, CRAWLER_ATTRIBUTE, None)


def state_for(crawler: Any) -> AnyStateStore | None:
    """The open state store of this crawl, or None when the state extension is off or closed."""
    session = session_for(crawler)
    return session.store if session is not None else None
