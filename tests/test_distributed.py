"""Distributed crawling on a real Redis server: three workers, one SIGKILLed, one merge.

The grown sample site (the sample site plus generated articles) is crawled by three ``scrapy
crawl`` processes sharing one run; one is killed mid-run with SIGKILL and another started in its
place. Every article must come out exactly once across the workers' items, and its response
exactly once across their WARCs (revisits aside); ``scrapy runmerge`` must produce one
accounting with nothing unaccounted and a WACZ that ``wacz validate`` accepts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from warcio.archiveiterator import ArchiveIterator

from newsarchive.cluster import Frontier, RunKeys, WorkerRegistry
from newsarchive.state.redisstore import RedisStateStore, state_prefix
from newsarchive.state.rows import FetchRecord, StoredRecord
from tests.crawl_helpers import REPO
from tests.distributed_helpers import (
    build_site,
    count_lines,
    expected_article_ids,
    read_jsonl,
    redis_server,
    worker_command,
)
from tests.test_stats_documented import undocumented
from tests.webdouble_fixtures import proxy_env

GENERATED = 1500
RUN_ID = "dist-kill"


@pytest.fixture
def redis_url(tmp_path: Path):
    with redis_server(tmp_path / "redis") as url:
        yield url


@pytest.fixture
def client(redis_url: str):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_frontier_take_ack_requeue(client) -> None:
    """Taken requests sit in the worker's in-flight hash until acked; a dead worker's go back
    into the queue with their priority."""
    keys = RunKeys("rferl", "unit")
    first, second = Frontier(client, keys, "w1"), Frontier(client, keys, "w2")
    assert first.push(b"low", priority=0, fingerprint="fp-low")
    assert first.push(b"high", priority=10, fingerprint="fp-high")
    assert not first.push(b"again", priority=0, fingerprint="fp-low")  # seen: not queued
    token, data = first.take()
    assert data == b"high" and first.in_flight() == 1 and first.queued() == 1
    second_token, second_data = second.take()
    assert second_data == b"low" and second.queued() == 0
    first.ack(token)
    assert first.in_flight() == 0
    assert first.requeue("w2") == 1  # w2 died holding "low"
    assert second.in_flight() == 0 and first.queued() == 1
    assert first.take()[1] == b"low"
    assert second_token != token


def test_seed_and_recovery_marks(client) -> None:
    keys = RunKeys("rferl", "unit")
    registry = WorkerRegistry(client, keys, ttl=1)
    assert registry.claim_seed("w1") and not registry.claim_seed("w2")
    assert registry.take_over_seed("w1", "w2") and registry.seeder() == "w2"
    assert not registry.take_over_seed("w1", "w3")
    registry.seed_done()
    assert registry.seeder() == "done"
    assert registry.recovered_by("w1") is None
    registry.mark_recovering("w1", "w2")
    assert registry.recovered_by("w1") == "w2"


def test_redis_state_store_round_trip(client) -> None:
    """The Redis store answers as the SQLite one: settle, alias, 304, first payload wins."""
    store = RedisStateStore(client, state_prefix("rferl"))
    assert store.article("123") is None
    record = StoredRecord("https://x.test/a/123.html", "2025-05-01T00:00:00Z", "<urn:1>", "sha1:A")
    fetch = FetchRecord("https://x.test/a/123.html", fetched_at=_now(), etag='"e1"', record=record)
    store.record_fetch("123", fetch, item_digest="d1", version=1, canonical_url="https://c/")
    store.add_alias("url-key", "123")
    state = store.article("url-key")
    assert state is not None and state.article_id == "123" and state.item_digest == "d1"
    assert state.etag == '"e1"' and state.record == record and state.version == 1
    store.record_fetch("123", FetchRecord("https://x.test/a/123.html", fetched_at=_now()))
    state = store.article("123")
    assert state.etag is None and state.item_digest == "d1" and state.payload_digest is None
    assert store.remember_original(record) and not store.remember_original(record)
    assert store.original("sha1:A") == record
    store.set_site_articles({"x.test": 3}, "r1")
    assert store.site_articles() == {"x.test": 3}
    assert store.load_template("x.test") is None and not store.template_page_learned("x.test", "1")
    store.save_template("x.test", 2, {"b1": [2, 0], "b2": [1, 1]}, ["1", "2"])
    assert store.load_template("x.test") == (2, {"b1": [2, 0], "b2": [1, 1]})
    assert store.template_page_learned("x.test", "2")


def test_disabled_without_redis_url() -> None:
    """Single-machine runs: the distributed components are not built."""
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from newsarchive.extensions.distributed import DistributedExtension
    from newsarchive.spidermiddlewares.sharedfrontier import SharedFrontierMiddleware

    crawler = get_crawler()
    with pytest.raises(NotConfigured):
        DistributedExtension.from_crawler(crawler)
    requisites = get_crawler(
        settings_dict={
            "NEWSARCHIVE_DISTRIBUTED": "redis://127.0.0.1:1/0",
            "NEWSARCHIVE_REQUISITES_ENABLED": True,
        }
    )
    with pytest.raises(ValueError, match="page requisites"):  # refused before connecting
        DistributedExtension.from_crawler(requisites)
    with pytest.raises(NotConfigured):
        SharedFrontierMiddleware.from_crawler(crawler)


def test_addon_needs_a_shared_run_id_and_a_redis_url() -> None:
    from scrapy.settings import Settings

    from newsarchive.addon import NewsarchiveAddon

    settings = Settings({"NEWSARCHIVE_DISTRIBUTED": "redis://127.0.0.1:6379/0"})
    with pytest.raises(ValueError, match="NEWSARCHIVE_RUN_ID"):
        NewsarchiveAddon().update_settings(settings)
    settings = Settings({"NEWSARCHIVE_DISTRIBUTED": "http://x", "NEWSARCHIVE_RUN_ID": "r"})
    with pytest.raises(ValueError, match="not a Redis URL"):
        NewsarchiveAddon().update_settings(settings)
    settings = Settings(
        {
            "NEWSARCHIVE_DISTRIBUTED": "redis://127.0.0.1:6379/0",
            "NEWSARCHIVE_RUN_ID": "r1",
            "NEWSARCHIVE_WORKER_ID": "m1-a",
        }
    )
    NewsarchiveAddon().update_settings(settings)
    assert settings["SCHEDULER"].endswith("DistributedScheduler")
    assert settings["SCHEDULER_QUEUE_KEY"] == "newsarchive:%(spider)s:r1:requests"
    assert not settings.getbool("NEWSARCHIVE_WACZ_ENABLED")  # the merge builds it
    assert any(uri.endswith("/r1/items-m1-a.jsonl") for uri in settings.getdict("FEEDS"))


def test_workers_share_the_spider_lock_a_single_run_does_not(tmp_path) -> None:
    from newsarchive.extensions.runlock import RunLock, RunLocked, probe

    path = tmp_path / "crawl.lock"
    first, second = RunLock(path, shared=True).acquire(), RunLock(path, shared=True).acquire()
    assert probe(path, shared=True) is None and probe(path) is not None
    with pytest.raises(RunLocked):
        RunLock(path).acquire()
    first.release()
    second.release()
    RunLock(path).acquire().release()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _response_records(folder: Path) -> Counter:
    """``response`` records per target URI across every WARC of the run folder."""
    counts: Counter = Counter()
    for path in sorted(folder.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    counts[record.rec_headers.get_header("WARC-Target-URI")] += 1
    return counts


@pytest.mark.slow
def test_three_workers_one_killed_exactly_once(tmp_path, webdouble_factory, redis_url) -> None:
    generated = build_site(tmp_path / "site", GENERATED)
    double = webdouble_factory(tmp_path / "site")
    output = tmp_path / "out"
    output.mkdir()
    env = {**os.environ, **proxy_env(double)}
    workers: dict[str, subprocess.Popen] = {}

    def start(worker: str) -> None:
        cmd = worker_command(output, RUN_ID, redis_url, worker)
        workers[worker] = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    folder = output / "rferl" / RUN_ID
    try:
        for worker in ("w1", "w2", "w3"):
            start(worker)
        # Mid-run: w2 has written items and the crawl is far from done.
        _wait_for(lambda: count_lines(folder / "items-w2.jsonl") >= 60, 240, "w2's items")
        workers["w2"].send_signal(signal.SIGKILL)
        workers["w2"].wait(timeout=30)
        start("w4")
        codes = {w: workers[w].wait(timeout=600) for w in ("w1", "w3", "w4")}
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
    assert codes == {"w1": 0, "w3": 0, "w4": 0}, codes

    # The killed worker was recovered: its files repaired, its in-flight requests requeued.
    killed = json.loads((folder / "manifest-w2.json").read_text("utf-8"))
    assert killed["status"] == "killed"
    client = redis.Redis.from_url(redis_url)
    try:
        registry = WorkerRegistry(client, RunKeys("rferl", RUN_ID), ttl=3)
        entry = registry.workers()["w2"]
    finally:
        client.close()
    assert entry["status"] == "killed" and entry["recovered_by"] in ("w1", "w3", "w4")
    assert entry["requeued"] > 0, entry  # it died with requests in flight

    # Exactly once: every article in one item across the workers.
    items = [i for w in ("w1", "w2", "w3", "w4") for i in read_jsonl(folder / f"items-{w}.jsonl")]
    keys = Counter(item["article_key"] for item in items)
    assert [k for k, n in keys.items() if n > 1] == []
    assert set(keys) == expected_article_ids(generated)
    assert all(count_lines(folder / f"items-{w}.jsonl") for w in ("w1", "w3")), "no share"
    # ... and its response once across the WARCs (the re-fetch of a requeued one: a revisit).
    responses = _response_records(folder)
    assert {
        item["url"]: responses[item["url"]] for item in items if responses[item["url"]] != 1
    } == {}

    # Every stat the workers wrote is documented.
    stats = [json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("stats-w*.json"))]
    keys = {key for worker in stats for key in worker if key.startswith("newsarchive/")}
    assert undocumented(keys, (REPO / "README.md").read_text("utf-8")) == []

    # One run out of four workers.
    merge = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "runmerge",
            str(folder),
            "-s",
            f"NEWSARCHIVE_DISTRIBUTED={redis_url}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    print(merge.stdout, merge.stderr)
    assert merge.returncode == 0
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["status"] == "finished" and manifest["items"]["count"] == len(items)
    assert manifest["accounting"]["source"] == "ledger"
    assert manifest["accounting"]["unaccounted"] == 0
    assert manifest["accounting"]["item"] == len(items)
    wacz = folder / f"rferl-{RUN_ID}.wacz"
    validate = subprocess.run(
        [str(Path(sys.executable).parent / "wacz"), "validate", "-f", str(wacz)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_urls_merge_keeps_the_strongest_fate_and_the_ledgers_word(tmp_path) -> None:
    """A URL scheduled by one worker and fetched by another is its fetch; the ledger adds what a
    killed worker did; a URL with no fate anywhere is unaccounted."""
    from newsarchive.extensions.accounting import OUTCOMES
    from newsarchive.urlmerge import merged_records

    def write(worker: str, *lines: dict) -> None:
        text = "".join(json.dumps(line) + "\n" for line in lines)
        (tmp_path / f"urls-{worker}.jsonl").write_text(text, "utf-8")

    write(
        "a",
        {"url": "https://x/1", "outcome": "pending", "reason": "queued"},
        {"url": "https://x/2", "outcome": "pending", "reason": "queued"},
        {"url": "https://x/9", "outcome": "not_requested", "reason": "before_since"},
    )
    write(
        "b",
        {"url": "https://x/1", "outcome": "item", "reason": "article", "status": 200},
        {"url": "https://x/9", "outcome": "item", "reason": "article"},
    )
    fates = {
        "https://x/1": ("item", "article"),
        "https://x/2": None,
        "https://x/3": ("error", "http_500"),
    }
    records = merged_records(
        tmp_path, ["a", "b"], OUTCOMES, (fates, {"https://x/8": "known_skipped"})
    )
    by_url = {r.url: (r.outcome, r.reason, r.status) for r in records}
    assert by_url == {
        "https://x/1": ("item", "article", 200),
        "https://x/2": ("unaccounted", None, None),
        "https://x/3": ("error", "http_500", None),  # the killed worker's, from the ledger only
        "https://x/9": ("item", "article", None),  # requested after all
        "https://x/8": ("not_requested", "known_skipped", None),
    }


@pytest.mark.slow
def test_a_worker_recovers_a_seeder_that_died_seeding(
    tmp_path, webdouble_factory, redis_url, sample_site
) -> None:
    """The run's seed is held by a worker that died before it finished (its lock file is free,
    Redis still says "running"): the next worker recovers it and seeds discovery itself."""
    output = tmp_path / "out"
    folder = output / "rferl" / "seedless"
    folder.mkdir(parents=True)
    (folder / "worker-dead.lock").write_text("pid=1\n", "utf-8")
    client = redis.Redis.from_url(redis_url)
    try:
        registry = WorkerRegistry(client, RunKeys("rferl", "seedless"), ttl=5)
        registry.register("dead", {"host": "elsewhere", "pid": 1})
        assert registry.claim_seed("dead")
        double = webdouble_factory(sample_site)
        proc = subprocess.run(
            worker_command(output, "seedless", redis_url, "w1"),
            cwd=REPO,
            env={**os.environ, **proxy_env(double)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert registry.workers()["dead"]["status"] == "killed"
        assert registry.seeder() == "done"
    finally:
        client.close()
    keys = {item["article_key"] for item in read_jsonl(folder / "items-w1.jsonl")}
    assert keys == expected_article_ids([])
