"""The progress line: its arithmetic, its switches, and the lines a real crawl logs."""

from __future__ import annotations

import re

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.extensions.progress import ProgressExtension, Snapshot, duration, progress_line
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import SAMPLE_ARGS, run_crawl

LINE = re.compile(
    r"Progress: (?P<items>[\d,]+) articles written, (?P<rate>[\d.]+) pages/s, "
    r"(?P<queue>[\d,]+) requests queued, (?P<notices>[\d,]+) legal notices, "
    r"(?P<failed>[\d,]+) failed URLs(?:, about (?P<left>.+) left)?$",
    re.M,
)


def test_line_counts_rate_queue_and_time_left():
    stats = {
        "item_scraped_count": 1234,
        "response_received_count": 700,
        "scheduler/enqueued": 2000,
        "scheduler/dequeued": 800,
        "newsarchive/extract/notice/foreign-agent": 2,
        "newsarchive/extract/notice/undesirable-organization": 10,
        "newsarchive/errors/fetch/http_500": 3,
        "newsarchive/errors/skipped/robots": 9,  # a skip, not a failure
    }
    line, snapshot = progress_line(stats, Snapshot(100, at=1000.0), now=1300.0, in_flight=16)
    assert line == (
        "Progress: 1,234 articles written, 2.0 pages/s, 1,216 requests queued, "
        "12 legal notices, 3 failed URLs, about 10 min left"
    )
    assert snapshot == Snapshot(700, 1300.0)


def test_no_time_left_without_a_queue_size_or_a_rate():
    line, _ = progress_line({"response_received_count": 5}, Snapshot(0, 0.0), now=10.0)
    assert "queue size unknown" in line and "left" not in line
    stalled = {"scheduler/enqueued": 5, "response_received_count": 5}
    line, _ = progress_line(stalled, Snapshot(5, 0.0), now=10.0)
    assert "0.0 pages/s, 5 requests queued" in line and "left" not in line
    done = {"scheduler/enqueued": 5, "scheduler/dequeued": 5, "response_received_count": 9}
    line, _ = progress_line(done, Snapshot(5, 0.0), now=1.0)
    assert "4.0 pages/s, 0 requests queued" in line and "left" not in line


def test_durations_read_as_words():
    assert [duration(s) for s in (45, 1740, 11100)] == ["45 s", "29 min", "3 h 05 min"]


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        ({"NEWSARCHIVE_PROGRESS_ENABLED": False}, "NEWSARCHIVE_PROGRESS_ENABLED"),
        ({"LOGSTATS_INTERVAL": 0}, "LOGSTATS_INTERVAL"),
    ],
)
def test_disabled_progress_is_not_configured(settings, why):
    with pytest.raises(NotConfigured, match=why):
        ProgressExtension.from_crawler(get_crawler(settings_dict=settings))


@pytest.mark.slow
def test_a_crawl_logs_progress_at_the_logstats_rhythm(sample_site, tmp_path):
    # Slow responses keep the crawl open for several short intervals.
    with WebDouble(sample_site, delay=0.3) as double:
        result = run_crawl(double, tmp_path / "out", *SAMPLE_ARGS, "-s", "LOGSTATS_INTERVAL=0.5")
    assert result.returncode == 0, result.stdout[-3000:]
    lines = [m.groupdict() for m in LINE.finditer(result.log)]
    assert len(lines) >= 2, result.log[-3000:]
    assert "[newsarchive.extensions.progress] INFO: Progress: " in result.log
    written = [int(x["items"].replace(",", "")) for x in lines]
    assert written == sorted(written) and written[-1] <= len(result.items)
    assert any(x["left"] for x in lines)  # the scheduler's queue is known: a time left
    assert all(int(x["failed"]) <= result.stats["newsarchive/errors/urls"] for x in lines)
