"""What the workers of one distributed run share in Redis, Scrapy-free.

The queue and the duplicate filter are scrapy-redis's (a sorted set of pickled requests and a set
of fingerprints); this package adds what a crawl that must lose and duplicate nothing needs on top:
requests taken by a worker and not yet done (:mod:`~newsarchive.cluster.frontier`), who works on
the run and who is alive (:mod:`~newsarchive.cluster.workers`), claims that make a decision once
for the whole run, and the run's URL accounting (:mod:`~newsarchive.cluster.ledger`). Every key
of a run starts with ``newsarchive:<spider>:<run id>:`` (:class:`RunKeys`).
"""

from __future__ import annotations

from newsarchive.cluster.connect import connect, redis_url_error
from newsarchive.cluster.frontier import Frontier
from newsarchive.cluster.keys import RunKeys, worker_id_for
from newsarchive.cluster.ledger import Ledger
from newsarchive.cluster.workers import WorkerRegistry

__all__ = [
    "Frontier",
    "Ledger",
    "RunKeys",
    "WorkerRegistry",
    "connect",
    "redis_url_error",
    "worker_id_for",
]
