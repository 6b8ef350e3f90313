"""One run per spider and output: the lock, its stale-lock takeover, and what cron sees."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.extensions.runlock import (
    EXIT_LOCKED,
    RunLock,
    RunLocked,
    RunLockExtension,
    lock_path,
    probe,
)
from tests.crawl_helpers import run_crawl


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_lock_is_refused_with_the_holder_named(tmp_path):
    path = lock_path(tmp_path, "rferl")
    first = RunLock(path).acquire()
    try:
        assert probe(path) is not None
        with pytest.raises(RunLocked, match=r"another run holds .*crawl\.lock \(pid=\d+"):
            RunLock(path).acquire()
    finally:
        first.release()
    assert probe(path) is None
    RunLock(path).acquire().release()  # free again after release
    assert path.read_text("utf-8") == ""  # a clean stop leaves no holder behind


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, caplog):
    path = lock_path(tmp_path, "rferl")
    path.parent.mkdir(parents=True)
    pid = dead_pid()
    path.write_text(f"pid={pid} started=2026-11-28T05:00:00+00:00\n", "utf-8")
    assert probe(path) is None  # nobody holds it: the process is gone
    with caplog.at_level(logging.WARNING, logger="newsarchive.extensions.runlock"):
        lock = RunLock(path).acquire()
    try:
        assert lock.previous_holder.startswith(f"pid={pid} ")
        assert "stale lock" in caplog.text and "dead" in caplog.text
        assert path.read_text("utf-8").startswith(f"pid={__import__('os').getpid()} ")
    finally:
        lock.release()


def test_lock_held_by_another_process_blocks_it(tmp_path):
    path = lock_path(tmp_path, "rferl")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from newsarchive.extensions.runlock import RunLock; "
            f"lock = RunLock({str(path)!r}).acquire(); print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked, match=f"pid={holder.pid}"):
            RunLock(path).acquire()
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()
    RunLock(path).acquire().release()  # released when its holder exited


def test_crawl_refuses_to_start_while_locked(webdouble_factory, sample_site, tmp_path):
    double = webdouble_factory(sample_site)
    lock = RunLock(lock_path(tmp_path, "rferl")).acquire()
    try:
        result = run_crawl(double, tmp_path, "-a", "sites=www.rferl.org", run_id="second")
    finally:
        lock.release()
    assert result.returncode == EXIT_LOCKED
    assert "not starting: another run of spider 'rferl'" in result.stdout
    assert not result.folder.exists()  # nothing written, nothing repaired
    assert double.requests() == []


def test_disabled_runlock_is_not_configured():
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_RUNLOCK_ENABLED": False})
    with pytest.raises(NotConfigured, match="NEWSARCHIVE_RUNLOCK_ENABLED"):
        RunLockExtension.from_crawler(crawler)
