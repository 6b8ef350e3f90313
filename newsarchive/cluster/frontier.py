"""Take requests from the shared queue so that a killed worker loses none of them.

scrapy-redis pops a request and forgets it: a worker killed between the pop and the end of the
callback loses the request for the whole run. Here one Lua script (atomic in Redis) moves the
request from the queue into the worker's *in-flight* hash; the worker removes it (``ack``) once
the callback's requests are queued and its items written and settled. Whoever recovers a dead
worker puts its in-flight requests back into the queue (``requeue``), with their priority.

The queue's layout is scrapy-redis's ``PriorityQueue``: a sorted set whose members are the
encoded requests and whose score is ``-priority``. Scrapy-free.
"""

from __future__ import annotations

import uuid
from typing import Any

from newsarchive.cluster.keys import RunKeys

#: KEYS: queue, in-flight hash; ARGV: a fresh id. Returns {token, request} or nil.
_TAKE = """
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then return false end
local token = popped[2] .. ' ' .. ARGV[1]
redis.call('HSET', KEYS[2], token, popped[1])
return {token, popped[1]}
"""
#: KEYS: duplicate filter, queue; ARGV: fingerprint ('' = do not filter), score, request.
#: The fingerprint is recorded and the request queued in one step: a worker killed in between
#: cannot leave a URL "seen" that was never queued.
_PUSH = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
#: KEYS: queue, in-flight hash. Every in-flight request back at its score; returns how many.
_REQUEUE = """
local entries = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #entries, 2 do
  local score = string.match(entries[i], '^(%S+) ')
  redis.call('ZADD', KEYS[1], tonumber(score) or 0, entries[i + 1])
  n = n + 1
end
redis.call('DEL', KEYS[2])
return n
"""


class Frontier:
    """The shared queue seen by one worker: take, ack, and give back a dead worker's requests."""

    def __init__(self, client: Any, keys: RunKeys, worker: str) -> None:
        self._redis = client
        self.keys = keys
        self.worker = worker
        self._take = client.register_script(_TAKE)
        self._requeue = client.register_script(_REQUEUE)
        self._push = client.register_script(_PUSH)

    def push(self, data: bytes, priority: int, fingerprint: str | None) -> bool:
        """Queue an encoded request unless ``fingerprint`` was seen: False when it was."""
        keys = [self.keys.dupefilter, self.keys.requests]
        return bool(self._push(keys=keys, args=[fingerprint or "", -priority, data]))

    def take(self) -> tuple[str, bytes] | None:
        """The best request of the queue, now in this worker's in-flight hash: (token, data)."""
        keys = [self.keys.requests, self.keys.in_flight(self.worker)]
        taken = self._take(keys=keys, args=[uuid.uuid4().hex])
        if not taken:
            return None
        token, data = taken
        return (token.decode("ascii") if isinstance(token, bytes) else token), data

    def ack(self, token: str) -> None:
        """The request of ``token`` is done: its outcome is durable, its children queued."""
        self._redis.hdel(self.keys.in_flight(self.worker), token)

    def sweep(self) -> int:
        """Forget every in-flight request of this worker (when its engine is idle, all are done)."""
        key = self.keys.in_flight(self.worker)
        count = int(self._redis.hlen(key))
        self._redis.delete(key)
        return count

    def requeue(self, worker: str) -> int:
        """Put ``worker``'s in-flight requests back into the queue (it died): how many."""
        keys = [self.keys.requests, self.keys.in_flight(worker)]
        return int(self._requeue(keys=keys))

    def queued(self) -> int:
        return int(self._redis.zcard(self.keys.requests))

    def in_flight(self, worker: str | None = None) -> int:
        return int(self._redis.hlen(self.keys.in_flight(worker or self.worker)))
