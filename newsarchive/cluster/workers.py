"""Who works on a distributed run, who is alive, who seeds, and who recovered whom.

A worker registers when it starts, then beats: its ``alive`` key expires unless renewed, so a
worker killed by SIGKILL (or a machine gone) stops counting as busy after ``ttl`` seconds. Its
in-flight requests stay in Redis until a worker that can read its files recovers it (see
:mod:`newsarchive.extensions.distributed`). Scrapy-free.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from newsarchive.cluster.keys import RunKeys

SEED_DONE = "done"
#: KEYS: seed; ARGV: expected holder, new holder. Compare-and-set, atomic.
_SWAP_SEED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class WorkerRegistry:
    """The workers of one run, in Redis."""

    def __init__(self, client: Any, keys: RunKeys, ttl: float) -> None:
        self._redis = client
        self.keys = keys
        self.ttl_ms = max(1000, int(ttl * 1000))
        self._swap_seed = client.register_script(_SWAP_SEED)

    def register(self, worker: str, info: dict[str, Any]) -> None:
        self.update(worker, status="running", started=datetime.now(UTC).isoformat(), **info)
        self.beat(worker)

    def update(self, worker: str, **fields: Any) -> None:
        """Merge ``fields`` into the worker's entry."""
        entry = self.workers().get(worker, {})
        entry.update(fields)
        self._redis.hset(self.keys.workers, worker, json.dumps(entry, sort_keys=True))

    def beat(self, worker: str) -> None:
        self._redis.set(self.keys.alive(worker), "1", px=self.ttl_ms)

    def stop_beating(self, worker: str) -> None:
        self._redis.delete(self.keys.alive(worker))

    def alive(self, worker: str) -> bool:
        return bool(self._redis.exists(self.keys.alive(worker)))

    def workers(self) -> dict[str, dict[str, Any]]:
        raw = self._redis.hgetall(self.keys.workers)
        return {_text(k): json.loads(v) for k, v in raw.items()}

    # -- seeding: discovery's start requests go into the queue once per run ------------------
    def claim_seed(self, worker: str) -> bool:
        """True for the one worker that seeds (the first to ask)."""
        return bool(self._redis.set(self.keys.seed, worker, nx=True))

    def seed_done(self) -> None:
        self._redis.set(self.keys.seed, SEED_DONE)

    def seeder(self) -> str | None:
        """The worker seeding now, ``done``, or None before anyone started."""
        value = self._redis.get(self.keys.seed)
        return _text(value) if value is not None else None

    def take_over_seed(self, dead: str, worker: str) -> bool:
        """``worker`` seeds instead of ``dead``, which died before it finished seeding."""
        return bool(self._swap_seed(keys=[self.keys.seed], args=[dead, worker]))

    # -- recovery of dead workers ------------------------------------------------------------
    def mark_recovering(self, dead: str, by: str) -> None:
        """``by`` recovers ``dead`` (it holds the dead worker's lock file: it alone does)."""
        self._redis.hset(self.keys.recovered, dead, by)

    def recovered_by(self, dead: str) -> str | None:
        value = self._redis.hget(self.keys.recovered, dead)
        return _text(value) if value is not None else None
