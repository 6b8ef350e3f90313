"""The disk-queue scheduler: pending requests wait in a private folder, gone when the run
closes, handed out in the order Scrapy's memory queue gives; JOBDIR and the switch are kept."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.core.scheduler import Scheduler
from scrapy.utils.test import get_crawler

from newsarchive.schedulers.diskqueue import DiskQueueScheduler


class _Spider(Spider):
    name = "queue"

    def parse(self, response):  # requests must name a spider method to be pickled
        return None


def _open(cls, tmp_path: Path, **settings):
    # the downloader-aware default queue needs a running engine; the e2e crawl uses it
    base = {"SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue"}
    crawler = get_crawler(_Spider, {**base, **settings})
    crawler.spider = _Spider.from_crawler(crawler)
    scheduler = cls.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler, crawler


def _requests(spider: Spider) -> list[Request]:
    return [
        Request(
            f"https://www.rferl.org/a/{40000000 + n}.html",
            callback=spider.parse,
            priority=n % 3,
            meta={"newsarchive_hints": {"title": f"Заголовок {n}", "lastmod": "2026-12-03"}},
        )
        for n in range(50)
    ]


def _drain(scheduler) -> list[Request]:
    out = []
    while (request := scheduler.next_request()) is not None:
        out.append(request)
    return out


def test_requests_wait_on_disk_and_leave_in_scrapys_order(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ours, crawler = _open(DiskQueueScheduler, tmp_path)
    folder = Path(ours.private_dir)
    assert folder.parent == tmp_path and folder.is_dir()
    for request in _requests(crawler.spider):
        assert ours.enqueue_request(request)
    assert len(ours) == 50
    assert crawler.stats.get_value("scheduler/enqueued/disk") == 50
    assert not crawler.stats.get_value("scheduler/enqueued/memory")
    assert any(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    theirs, scrapy_crawler = _open(Scheduler, tmp_path)
    for request in _requests(scrapy_crawler.spider):
        theirs.enqueue_request(request)
    got, want = _drain(ours), _drain(theirs)
    assert [(r.url, r.priority, r.meta) for r in got] == [(r.url, r.priority, r.meta) for r in want]
    ours.close("finished")
    theirs.close("finished")
    assert not folder.exists()


def test_the_folder_exists_only_while_the_scheduler_is_open(tmp_path, monkeypatch):
    """A crawl that stops before the engine opens the scheduler leaves no folder behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    crawler = get_crawler(
        _Spider, {"SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue"}
    )
    scheduler = DiskQueueScheduler.from_crawler(crawler)
    assert scheduler.private and scheduler.private_dir is None
    assert not list(tmp_path.iterdir())


def test_an_unclosed_queue_is_removed_at_close_too(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    scheduler, crawler = _open(DiskQueueScheduler, tmp_path)
    for request in _requests(crawler.spider)[:5]:
        scheduler.enqueue_request(request)
    folder = Path(scheduler.private_dir)
    scheduler.close("shutdown")  # a stopped run: what was pending is not kept
    assert not folder.exists()


@pytest.mark.parametrize("settings", [{"NEWSARCHIVE_DISKQUEUE_ENABLED": False}, {"JOBDIR": ""}])
def test_switched_off_or_a_job_keeps_scrapys_meaning(tmp_path, settings):
    if "JOBDIR" in settings:
        settings = {"JOBDIR": str(tmp_path / "job")}
    scheduler, crawler = _open(DiskQueueScheduler, tmp_path, **settings)
    assert scheduler.private_dir is None and not scheduler.private
    scheduler.enqueue_request(_requests(crawler.spider)[0])
    if "JOBDIR" in settings:  # Scrapy's resumable job: its queue stays for the next run
        assert scheduler.dqdir == str(tmp_path / "job" / "requests.queue")
        scheduler.close("shutdown")
        assert (tmp_path / "job" / "requests.queue" / "active.json").is_file()
    else:
        assert scheduler.dqdir is None
        assert crawler.stats.get_value("scheduler/enqueued/memory") == 1
        scheduler.close("finished")
