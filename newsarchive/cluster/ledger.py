"""The URL accounting of a whole distributed run, kept in Redis as the workers go.

One worker schedules a request, another fetches it, a third gets its redirect: no single
worker's accounting (:mod:`newsarchive.extensions.accounting`) sees a URL's whole story. Every
worker also writes into the run's ledger: each requested URL (its *origin*) with the strongest
fate any worker gave it, and each listed URL discovery did not request. Written as it happens,
so a SIGKILLed worker's part survives it. ``scrapy runmerge`` reads it
(:mod:`newsarchive.urlmerge`). Scrapy-free.
"""

from __future__ import annotations

from typing import Any

from newsarchive.cluster.keys import RunKeys

#: KEYS: fates; ARGV: origin, rank (lower is stronger), "outcome/reason". Keeps the strongest;
#: an equal rank replaces (later news is sharper), as the per-worker accounting does.
_SET_FATE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and current ~= '' then
  local rank = tonumber(string.match(current, '^(%d+) '))
  if rank < tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
return 1
"""


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class Ledger:
    """Write side (workers) and read side (the merge) of the run's accounting."""

    def __init__(self, client: Any, keys: RunKeys) -> None:
        self._redis = client
        self.keys = keys
        self._set_fate = client.register_script(_SET_FATE)

    def requested(self, origin: str) -> None:
        """``origin`` was scheduled (no fate yet, unless another worker gave it one)."""
        self._redis.hsetnx(self.keys.fates, origin, "")

    def fate(self, origin: str, rank: int, outcome: str, reason: str) -> None:
        self._set_fate(keys=[self.keys.fates], args=[origin, rank, f"{outcome}/{reason}"])

    def not_requested(self, url: str, reason: str) -> None:
        self._redis.hsetnx(self.keys.not_requested, url, reason)

    def read(self) -> tuple[dict[str, tuple[str, str] | None], dict[str, str]]:
        """(origin → (outcome, reason) or None, listed-not-requested URL → reason)."""
        fates: dict[str, tuple[str, str] | None] = {}
        for origin, value in self._redis.hscan_iter(self.keys.fates, count=1000):
            text = _text(value)
            if not text:
                fates[_text(origin)] = None
                continue
            outcome, _, reason = text.partition(" ")[2].partition("/")
            fates[_text(origin)] = (outcome, reason)
        dropped = {
            _text(url): _text(reason)
            for url, reason in self._redis.hscan_iter(self.keys.not_requested, count=1000)
        }
        return fates, dropped
