"""Replay: every request answered from the archive, the items equal to the live crawl's."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig
from newsarchive.downloadermiddlewares.replay import ReplayMiddleware, ReplayMiss
from newsarchive.downloadermiddlewares.warc import FETCHED_AT_KEY, META_KEY, REPLAYED_FLAG
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import SAMPLE_HOSTS, run_crawl

PAGE = "<html><head><title>t</title></head><body><p>Привет</p></body></html>".encode()
FETCH_TIME_FIELDS = ("fetched_at", "warc", "run_id")
#: Cross-run state (item versions): a replay keeps no state, so these are null there.
RUN_STATE_FIELDS = ("version", "previous_digest")


def _exchange(url: str, status: int, headers: list[tuple[str, str]], payload: bytes, **kw):
    return HttpExchange(
        url=url,
        method="GET",
        request_headers=[("Accept-Encoding", "gzip")],
        status=status,
        response_headers=headers,
        payload=payload,
        fetched_at=datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC),
        **kw,
    )


@pytest.fixture
def archive(tmp_path) -> Path:
    writer = RotatingWarcWriter(WarcWriterConfig(directory=tmp_path / "run", run_id="r"))
    writer.write_exchange(
        _exchange(
            "https://news.example/old",
            301,
            [("Location", "https://news.example/a?x=1")],
            b"",
        )
    )
    writer.write_exchange(
        _exchange(
            "https://news.example/a?x=1",
            200,
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
                ("Transfer-Encoding", "chunked"),
            ],
            gzip.compress(PAGE),
            was_chunked=True,
            ip_address="192.0.2.7",
        )
    )
    writer.close()
    return tmp_path / "run"


def _middleware(archive_path) -> tuple[ReplayMiddleware, object]:
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_REPLAY": str(archive_path)})
    crawler.stats.open_spider()
    return ReplayMiddleware.from_crawler(crawler), crawler


def test_disabled_without_archive():
    with pytest.raises(NotConfigured):
        ReplayMiddleware.from_crawler(get_crawler())


def test_replayed_response_is_what_scrapy_would_have_seen(archive):
    middleware, crawler = _middleware(archive)
    request = Request("https://news.example/a?x=1")
    response = middleware.process_request(request)
    # Like the HTTP handler: a gzip-encoded body is a plain Response until decoded.
    assert type(response) is Response and response.status == 200
    assert REPLAYED_FLAG in response.flags
    assert response.headers.getlist("Set-Cookie") == [b"a=1", b"b=2"]
    # Framing headers are gone, as Twisted would have removed them; the body is still gzip.
    assert b"Content-Length" not in response.headers
    assert b"Transfer-Encoding" not in response.headers
    assert not any(k.lower().startswith(b"x-crawler-") for k in response.headers)
    assert response.body[:2] == b"\x1f\x8b"
    assert str(response.ip_address) == "192.0.2.7"
    decoded = HttpCompressionMiddleware.from_crawler(crawler).process_response(request, response)
    assert isinstance(decoded, HtmlResponse)
    assert decoded.body == PAGE and "Привет" in decoded.text
    location = request.meta[META_KEY]
    assert location.filename == "newsarchive-r-00001.warc.gz" and location.record_id
    assert request.meta[FETCHED_AT_KEY] == datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)
    assert crawler.stats.get_value("newsarchive/replay/hit") == 1


def test_redirect_is_replayed_as_archived(archive):
    middleware, crawler = _middleware(archive)
    request = Request("https://news.example/old")
    response = middleware.process_request(request)
    assert response.status == 301
    follow = RedirectMiddleware.from_crawler(crawler).process_response(request, response)
    assert isinstance(follow, Request) and follow.url == "https://news.example/a?x=1"
    assert middleware.process_request(follow).status == 200


def test_miss_is_counted_ignore_request(archive):
    middleware, crawler = _middleware(archive)
    with pytest.raises(ReplayMiss) as caught:
        middleware.process_request(Request("https://news.example/never"))
    assert isinstance(caught.value, IgnoreRequest)
    assert crawler.stats.get_value("newsarchive/replay/miss") == 1


def test_a_miss_is_classified_as_a_skip_not_an_error():
    from newsarchive.extensions.errorlog import classify

    assert classify(ReplayMiss("not in the archive: https://x.org/robots.txt")) == (
        "replay_miss",
        "replay_miss",
    )
    assert classify(IgnoreRequest("something else")) == ("error", "ignored")


def test_unreadable_archive_fails_the_run_and_answers_nothing(tmp_path):
    broken = tmp_path / "broken.warc"
    broken.write_bytes(b"this is not a WARC file\r\n\r\n")
    middleware, crawler = _middleware(broken)
    middleware.spider_opened(None)
    assert "broken.warc" in crawler.stats.get_value("newsarchive/replay/error")
    assert crawler.stats.get_value("newsarchive/run/failure/replay") == 1
    with pytest.raises(ReplayMiss):
        middleware.process_request(Request("https://news.example/a?x=1"))


# -- end to end ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_replayed_crawl_reproduces_live_items(sample_site, tmp_path):
    args = ("-a", f"sites={SAMPLE_HOSTS}", "-a", "since=2012-01-01")
    live_double = WebDouble(sample_site, gzip=True, chunked=True).start()
    try:
        live = run_crawl(live_double, tmp_path / "out", *args, run_id="live")
    finally:
        live_double.stop()
    assert live.returncode == 0, live.stdout[-3000:]
    assert len(live.items) >= 10

    # The replay run's proxy is a fresh web double: any request reaching it is a failure.
    witness = WebDouble(sample_site).start()
    try:
        replay = run_crawl(
            witness,
            tmp_path / "out",
            *args,
            "-s",
            f"NEWSARCHIVE_REPLAY={live.folder}",
            run_id="replay",
        )
        sent = witness.requests()
    finally:
        witness.stop()
    assert replay.returncode == 0, replay.stdout[-3000:] + replay.log[-3000:]
    assert sent == [], f"replay went to the network: {sent[:3]}"
    assert replay.stats.get("newsarchive/replay/miss", 0) == 0
    assert replay.stats["newsarchive/replay/hit"] == live.stats["downloader/response_count"]
    assert not replay.warcs, "a replay run must not write WARC files"

    live_items = {item["url"]: item for item in live.items}
    replay_items = {item["url"]: item for item in replay.items}
    assert sorted(replay_items) == sorted(live_items)
    for url, want in live_items.items():
        got = replay_items[url]
        for name in want:
            if name not in FETCH_TIME_FIELDS + RUN_STATE_FIELDS:
                assert got[name] == want[name], f"{url}: {name}"
        # Provenance of a replayed item: the very record of the live run.
        assert got["warc"] == want["warc"] and got["fetched_at"] == want["fetched_at"]
    for key, value in live.stats.items():
        if key.startswith(("newsarchive/discovery/", "newsarchive/extract/")):
            assert replay.stats.get(key) == value, key


@pytest.mark.slow
def test_a_miss_in_a_replayed_crawl_is_an_info_line_and_a_counted_skip(sample_site, tmp_path):
    """An article the live run never got (it timed out) and a host it never crawled."""
    missing = "/a/kyrgyzstan-media-law-parliament-vote/33422970.html"
    hang = {"host": "www.rferl.org", "path": missing, "fault": {"kind": "hang", "seconds": 5}}
    double = WebDouble(sample_site, faults=[hang]).start()
    try:
        live = run_crawl(
            double,
            tmp_path / "out",
            *("-a", "sites=www.rferl.org", "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=0"),
            run_id="live",
        )
        assert live.returncode == 0, live.stdout[-3000:]
        replay = run_crawl(
            double,
            tmp_path / "out",
            *("-a", "sites=www.rferl.org,www.svoboda.org"),
            *("-s", f"NEWSARCHIVE_REPLAY={live.folder}"),
            run_id="replay",
        )
    finally:
        double.stop()
    assert replay.returncode == 0, replay.stdout[-3000:] + replay.log[-3000:]
    url = "https://www.rferl.org" + missing
    assert f"INFO: Not fetched (replay_miss): {url}" in replay.log
    assert "INFO: Not fetched (replay_miss): https://www.svoboda.org/robots.txt" in replay.log
    assert " ERROR: " not in replay.log, [x for x in replay.log.splitlines() if " ERROR: " in x]
    assert (replay.folder / "errors.jsonl").read_text("utf-8") == ""
    stats = replay.stats
    assert stats["newsarchive/replay/miss"] >= 2
    assert stats["newsarchive/accounting/skipped/replay_miss"] == 2
    assert stats["newsarchive/accounting/error"] == 0
    assert stats["newsarchive/accounting/unaccounted"] == 0
