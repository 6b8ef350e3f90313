"""Killed at any moment: SIGKILL a real crawl at several points, run again, count everything.

The crawl runs as a subprocess against a web double that answers article pages slowly, so the
kill lands where we want: waiting on the double's request log or on the items file, never on a
fixed sleep. Over the killed run and the next one, every article of the sample site must have
exactly one item and exactly one full response record, and every WARC must pass warcio check.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.discovery.pangea import article_id
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import (
    REPO,
    SAMPLE_ARGS,
    crawl_command,
    load_expected,
    proxy_vars,
    run_crawl,
)

pytestmark = pytest.mark.slow

ARGS = SAMPLE_ARGS
#: Article pages answer this slowly, so a crawl is still archiving when it is killed.
ARTICLE_DELAY = 0.3


def start_crawl(double: WebDouble, output: Path, run_id: str) -> subprocess.Popen:
    """``scrapy crawl rferl`` in the background, proxied through ``double``."""
    output.mkdir(parents=True, exist_ok=True)
    cmd = crawl_command(output, run_id, *ARGS, log_level=None)
    # A killed crawl leaves its disk queue's temporary folder: here, not in the system's.
    tmp = output / ".tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, **proxy_vars(double.proxy_url), "TMPDIR": str(tmp)}
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_for(
    condition: Callable[[], bool], proc: subprocess.Popen, what: str, log: Path | None = None
) -> None:
    """Poll ``condition`` until true; fail if the crawl ends first or it takes too long
    (saying the end of the crawl's ``log``, when given: why it ended is the question)."""
    deadline = time.monotonic() + 60
    while not condition():
        if proc.poll() is not None:
            tail = log.read_text("utf-8", "replace")[-3000:] if log and log.is_file() else ""
            pytest.fail(f"crawl ended (rc={proc.returncode}) before {what}\n{tail}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def article_requests(double: WebDouble) -> int:
    return sum(1 for r in double.requests() if r["method"] == "GET" and r["path"].startswith("/a/"))


def item_lines(folder: Path) -> int:
    path = folder / "items.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


def read_items(folder: Path) -> list[dict]:
    path = folder / "items.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def full_article_responses(folder: Path) -> Counter:
    """Article id -> number of full ``response`` records (HTTP 200) in the folder's WARCs."""
    counts: Counter = Counter()
    for path in sorted(folder.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or record.http_headers.get_statuscode() != "200":
                    continue
                aid = article_id(record.rec_headers.get_header("WARC-Target-URI"))
                if aid is not None:
                    counts[aid] += 1
    return counts


def warcio_check(folder: Path) -> None:
    warcs = sorted(folder.glob("*.warc.gz"))
    assert not list(folder.glob("*.open")), f"unrepaired .open file in {folder}"
    for path in warcs:
        check = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture(scope="module")
def expected(sample_site):
    return load_expected(sample_site)


@pytest.fixture(scope="module")
def slow_double(sample_site):
    double = WebDouble(sample_site, delay=ARTICLE_DELAY, delay_paths="/a/*").start()
    print(f"webdouble listening on {double.proxy_url}")
    yield double
    double.stop()


@pytest.fixture(scope="module")
def uninterrupted(sample_site, tmp_path_factory):
    """The reference: one run that nobody kills."""
    with WebDouble(sample_site) as double:
        result = run_crawl(double, tmp_path_factory.mktemp("ref"), *ARGS, run_id="ref")
    assert result.returncode == 0, result.log[-3000:]
    return {item["article_id"]: item for item in result.items}


KILL_POINTS = {
    # Discovery under way, no article answered yet.
    "early": lambda double, folder: any(
        "sitemap" in r["path"] for r in double.requests() if r["method"] == "GET"
    ),
    # Several article responses in flight or being archived, few or no items yet.
    "mid-archive": lambda double, folder: article_requests(double) >= 5,
    # Items being written.
    "mid-items": lambda double, folder: item_lines(folder) >= 4,
}


@pytest.mark.parametrize("moment", list(KILL_POINTS))
def test_sigkill_then_next_run_completes_exactly_once(
    moment, slow_double, tmp_path, expected, uninterrupted
):
    slow_double.clear_log()
    killed = tmp_path / "rferl" / "killed"
    proc = start_crawl(slow_double, tmp_path, "killed")
    wait_for(lambda: KILL_POINTS[moment](slow_double, killed), proc, moment)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    killed_manifest = json.loads((killed / "manifest.json").read_text("utf-8"))
    assert killed_manifest["status"] == "running"  # what a kill leaves

    result = run_crawl(slow_double, tmp_path, *ARGS, run_id="next")
    assert result.returncode == 0, result.stdout[-2000:] + result.log[-4000:]

    # Every article exactly once: items and full response records, over both runs.
    want = sorted(a["article_id"] for a in expected["articles"])
    items = read_items(killed) + result.items
    assert sorted(item["article_id"] for item in items) == want
    responses = full_article_responses(killed) + full_article_responses(result.folder)
    assert {aid: responses[aid] for aid in want} == dict.fromkeys(want, 1)
    assert all(n == 1 for n in responses.values()), responses
    # Same content as a run that was never killed.
    for item in items:
        reference = uninterrupted[item["article_id"]]
        assert (item["title"], item["text"]) == (reference["title"], reference["text"])
        assert item["version"] == 1

    # Readable archives, and the repair is on record in both manifests.
    warcio_check(killed)
    warcio_check(result.folder)
    manifest = json.loads((result.folder / "manifest.json").read_text("utf-8"))
    recovered = manifest["recovered_runs"]
    assert [r["run_id"] for r in recovered] == ["killed"]
    assert [w["action"] for w in recovered[0]["warcs"]] in (["closed"], ["trimmed"])
    killed_manifest = json.loads((killed / "manifest.json").read_text("utf-8"))
    assert killed_manifest["status"] == "killed" and killed_manifest["interrupted"] is True
    assert killed_manifest["repair"]["warcs"] == recovered[0]["warcs"]
    assert (tmp_path / "rferl" / "latest").resolve() == result.folder.resolve()


def test_sigterm_closes_cleanly_and_says_interrupted(slow_double, tmp_path, expected):
    slow_double.clear_log()
    folder = tmp_path / "rferl" / "stopped"
    proc = start_crawl(slow_double, tmp_path, "stopped")
    wait_for(lambda: article_requests(slow_double) >= 3, proc, "article requests")
    proc.send_signal(signal.SIGTERM)
    returncode = proc.wait(timeout=60)
    assert returncode == 1  # interrupted: cron must know this run did not complete

    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["interrupted"] is True
    assert manifest["status"] == "interrupted"
    assert manifest["finish_reason"] == "shutdown"
    assert "interrupted" in manifest["failures"]
    assert "unaccounted_urls" not in manifest["failures"]  # queued URLs are pending, not lost
    assert manifest["warcs"] and all(w["sha256"] for w in manifest["warcs"])
    warcio_check(folder)  # closed and renamed by the run itself, nothing to repair
    assert not (tmp_path / "rferl" / "latest").exists()  # only finished runs become latest

    result = run_crawl(slow_double, tmp_path, *ARGS, run_id="after")
    assert result.returncode == 0, result.log[-3000:]
    after = json.loads((result.folder / "manifest.json").read_text("utf-8"))
    assert after["recovered_runs"] == []  # a clean stop leaves nothing to repair
    items = read_items(folder) + result.items
    assert sorted(i["article_id"] for i in items) == sorted(
        a["article_id"] for a in expected["articles"]
    )
