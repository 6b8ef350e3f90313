"""The Redis key names of one distributed run, and worker ids."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass

#: Worker ids go into file names and WACZ resource names (``^[-a-z0-9._/]+$``).
_WORKER_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")


def worker_id_for(given: str = "") -> str:
    """``given`` checked, or ``<host>-<pid>``: unique on a machine, readable in file names."""
    if given:
        if not _WORKER_ID.match(given):
            raise ValueError(
                f"NEWSARCHIVE_WORKER_ID={given!r}: use lower-case letters, digits, '.' and '-' "
                "(at most 63 characters; it goes into file names)"
            )
        return given
    host = re.sub(r"[^a-z0-9-]+", "-", socket.gethostname().split(".")[0].lower()).strip("-")
    return f"{host or 'worker'}-{os.getpid()}"


@dataclass(frozen=True)
class RunKeys:
    """Every key of one run of one spider: ``newsarchive:<spider>:<run id>:<what>``."""

    spider: str
    run_id: str

    @property
    def prefix(self) -> str:
        return f"newsarchive:{self.spider}:{self.run_id}"

    @property
    def requests(self) -> str:
        """scrapy-redis's priority queue (a sorted set of pickled requests)."""
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        """scrapy-redis's request fingerprints."""
        return f"{self.prefix}:dupefilter"

    def in_flight(self, worker: str) -> str:
        """Requests ``worker`` took from the queue and has not finished (token → request)."""
        return f"{self.prefix}:inflight:{worker}"

    def alive(self, worker: str) -> str:
        """Expires unless ``worker`` keeps beating."""
        return f"{self.prefix}:alive:{worker}"

    @property
    def workers(self) -> str:
        """Worker id → JSON (host, pid, status, ...)."""
        return f"{self.prefix}:workers"

    @property
    def seed(self) -> str:
        """Who seeds discovery (the first worker), then ``done``."""
        return f"{self.prefix}:seed"

    @property
    def recovered(self) -> str:
        """Dead worker id → the worker that recovered it."""
        return f"{self.prefix}:recovered"

    @property
    def fates(self) -> str:
        """Requested URL (origin) → its fate, ``outcome/reason`` (empty: none yet)."""
        return f"{self.prefix}:fates"

    @property
    def not_requested(self) -> str:
        """Listed URL discovery did not request → the first reason given."""
        return f"{self.prefix}:not_requested"
