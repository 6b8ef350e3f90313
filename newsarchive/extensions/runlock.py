"""One run at a time per spider and output: ``<output>/<spider>/crawl.lock``.

An hourly cron job whose run takes longer than an hour must not start a second crawl that
would repair (truncate!) the first one's open WARC files. The lock is an ``flock`` on the file,
so the kernel drops it when the holder dies, even by SIGKILL: a lock left by a dead process is
never in the way. The holder's pid and start time are written into the file for the message;
finding them there on acquiring means the previous run did not stop cleanly.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive import default_settings as defaults
from newsarchive.runfolder import run_folder, worker_of

logger = logging.getLogger(__name__)

LOCK_FILENAME = "crawl.lock"
#: Exit status of ``scrapy crawl`` when another run holds the lock (sysexits EX_TEMPFAIL).
EXIT_LOCKED = 75


class RunLocked(RuntimeError):
    """Another process holds the lock of this spider and output."""


def lock_path(output: str | Path, spider_name: str) -> Path:
    """Where the lock of one spider on one output lives."""
    return Path(output) / spider_name / LOCK_FILENAME


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_lock_path(folder: str | Path, worker: str) -> Path:
    """The lock one worker of a distributed run holds in the run folder while it runs."""
    return Path(folder) / f"worker-{worker}.lock"


class RunLock:
    """A non-blocking ``flock`` with the holder's pid written inside.

    ``shared``: the workers of a distributed run hold the spider's lock together (``LOCK_SH``),
    so a single-machine run (``LOCK_EX``) cannot start, or repair their open files, meanwhile.
    Each worker holds its own ``worker-<id>.lock`` exclusively.
    """

    def __init__(self, path: str | Path, shared: bool = False) -> None:
        self.path = Path(path)
        self.shared = shared
        self._fh: IO[str] | None = None
        self.previous_holder: str | None = None
        """Contents left by a holder that did not release (a killed run), if any."""

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`RunLocked` with a message naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(fh.fileno(), _mode(self.shared) | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "distributed workers"
            fh.close()
            raise RunLocked(
                f"another run holds {self.path} ({holder}): not starting a second run of the "
                "same spider on the same output. Wait for it to finish, or stop it; a lock "
                "left by a dead process is taken over automatically."
            ) from None
        if self.shared:  # several holders: none writes its pid
            self._fh = fh
            return self
        fh.seek(0)
        left = fh.read().strip()
        if left:
            pid = left.split()[0].removeprefix("pid=")
            state = "dead" if pid.isdigit() and not _pid_alive(int(pid)) else "gone"
            self.previous_holder = left
            logger.warning(
                "Taking over the stale lock %s of a run that did not stop cleanly (%s, %s)",
                self.path,
                left,
                state,
            )
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid={os.getpid()} started={datetime.now(UTC).isoformat()}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        """Empty the file (a clean stop) and drop the lock."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        with contextlib.suppress(OSError):
            if not self.shared:
                fh.seek(0)
                fh.truncate()
                fh.flush()
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()

    @property
    def held(self) -> bool:
        return self._fh is not None


def _mode(shared: bool) -> int:
    return fcntl.LOCK_SH if shared else fcntl.LOCK_EX


def probe(path: str | Path, shared: bool = False) -> str | None:
    """Who holds the lock at ``path`` right now (its pid line), or None when it is free
    (``shared``: free for one more distributed worker).

    Only looks: the file is neither created nor rewritten, so a killed run's trace stays.
    """
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh.fileno(), _mode(shared) | fcntl.LOCK_NB)
        except BlockingIOError:
            return fh.read().strip() or "distributed workers"
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return None


@dataclass(frozen=True)
class RunLockConfig:
    output: str
    #: A distributed worker's id: the spider's lock is shared, the worker's own is exclusive.
    worker: str | None = None
    run_id: str = "run"


class RunLockExtension:
    """Take the lock when the crawler is built (before anything is written), drop it at the end."""

    def __init__(self, crawler: Crawler, config: RunLockConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.lock: RunLock | None = None
        self.worker_lock: RunLock | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLockExtension:
        settings = crawler.settings
        if not settings.getbool(
            "NEWSARCHIVE_RUNLOCK_ENABLED", defaults.NEWSARCHIVE_RUNLOCK_ENABLED
        ):
            raise NotConfigured("NEWSARCHIVE_RUNLOCK_ENABLED is false")
        config = RunLockConfig(
            output=settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT),
            worker=worker_of(settings),
            run_id=settings.get("NEWSARCHIVE_RUN_ID") or "run",
        )
        extension = cls(crawler, config)
        assert crawler.spider is not None, "extensions are built after the spider"
        name = crawler.spider.name
        shared = config.worker is not None
        extension.lock = RunLock(lock_path(config.output, name), shared=shared).acquire()
        if config.worker is not None:
            folder = run_folder(config.output, name, config.run_id)
            try:
                extension.worker_lock = RunLock(worker_lock_path(folder, config.worker)).acquire()
            except RunLocked:
                extension.lock.release()
                raise
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        if self.worker_lock is not None:
            self.worker_lock.release()
        if self.lock is not None:
            self.lock.release()
