"""Replay: every request answered from the archive, the items equal to the live crawl's."""

from __future__ import annotations

import gzip
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from newsarchive import metakeys
from newsarchive.archive.reader import iter_records
from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig
from newsarchive.downloadermiddlewares.replay import ReplayMiddleware
from newsarchive.downloadermiddlewares.warc import REPLAYED_FLAG
from newsarchive.exceptions import ReplayMiss
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import SAMPLE_ARGS, CrawlResult, run_crawl

PAGE = "<html><head><title>t</title></head><body><p>Привет</p></body></html>".encode()
FETCH_TIME_FIELDS = ("fetched_at", "warc", "run_id")
#: Run ids shaped like the default ones (UTC start times), for the documented pywb glob.
RUN_IDS = ("20261128T060000000Z", "20261128T070000000Z", "20261128T080000000Z")
SCHEDULED_ARGS = SAMPLE_ARGS
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
    location = request.meta[metakeys.WARC_RECORD]
    assert location.filename == "newsarchive-r-00001.warc.gz" and location.record_id
    assert request.meta[metakeys.FETCHED_AT] == datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)
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
    args = SAMPLE_ARGS
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


def test_classification_reads_exception_types_and_fixed_wordings_not_urls():
    """A URL inside a message (a miss on ``.../robots.txt``) must not decide the verdict."""
    from newsarchive.extensions.errorlog import classify

    for url in (
        "https://x.org/robots.txt",
        "https://x.org/offsite/a.html",
        "https://x.org/redirect?DOWNLOAD_MAXSIZE=1",
    ):
        assert classify(ReplayMiss(f"not in the archive: {url}")) == ("replay_miss",) * 2
        assert classify(IgnoreRequest(f"gave up on {url}")) == ("error", "ignored")
    assert classify(IgnoreRequest("Forbidden by robots.txt")) == ("robots", "robots_txt")
    assert classify(IgnoreRequest("Filtered offsite request to 'x.org'")) == ("offsite",) * 2
    assert classify(IgnoreRequest("max redirections reached")) == ("error", "redirect_limit")
    maxsize = (
        "Ignored response <200 https://x.org/a> because its body (10 B compressed, 99 B "
        "decompressed so far) exceeded DOWNLOAD_MAXSIZE (50 B) during decompression."
    )
    assert classify(IgnoreRequest(maxsize)) == ("error", "decompressed_too_large")


@pytest.mark.slow
def test_replaying_with_a_wider_since_misses_sitemaps_and_still_succeeds(sample_site, tmp_path):
    """The audit's reproduction: a ``sites=www.rferl.org`` archive replayed with
    ``since=2012-01-01``, so the archive sitemaps the live run never fetched are missed."""
    with WebDouble(sample_site) as double:
        live = run_crawl(double, tmp_path / "out", "-a", "sites=www.rferl.org", run_id="live")
        assert live.returncode == 0, live.stdout[-3000:]
        replay = run_crawl(
            double,
            tmp_path / "out",
            *("-a", "sites=www.rferl.org", "-a", "since=2012-01-01"),
            *("-s", f"NEWSARCHIVE_REPLAY={live.folder}"),
            run_id="replay",
        )
        sent = double.requests()
    assert replay.returncode == 0, replay.stdout[-3000:] + replay.log[-3000:]
    assert "RUN FAILED" not in replay.stdout
    assert sent == [], f"replay went to the network: {sent[:3]}"
    stats = replay.stats
    assert stats["newsarchive/replay/miss"] > 0
    assert not any(k.startswith("newsarchive/run/failure/") for k in stats), stats
    assert not any(k.startswith("newsarchive/discovery/failed/") for k in stats)
    assert (replay.folder / "errors.jsonl").read_text("utf-8") == ""
    assert stats["newsarchive/accounting/skipped/replay_miss"] == stats["newsarchive/replay/miss"]
    assert stats.get("newsarchive/errors/skipped/robots", 0) == 0
    assert stats["newsarchive/accounting/unaccounted"] == 0
    missed = [line for line in replay.log.splitlines() if "Not fetched (replay_miss)" in line]
    assert any("/sitemap_8_" in line for line in missed), missed
    # What the live run archived is still replayed in full.
    assert sorted(i["url"] for i in replay.items) == sorted(i["url"] for i in live.items)
    # A replay run archives nothing, so ``latest`` still names the run with the WARCs.
    assert (live.folder.parent / "latest").resolve() == live.folder.resolve()


@dataclass
class ScheduledRuns:
    first: CrawlResult
    second: CrawlResult
    third: CrawlResult
    spider_folder: Path


@pytest.fixture(scope="module")
def scheduled(sample_site, tmp_path_factory) -> ScheduledRuns:
    """Run 1 fetches everything; run 2 re-checks everything (refresh window) and archives only
    revisits: identical-payload-digest for robots.txt and sitemaps, server-not-modified for
    the 304 articles; run 3 is a plain scheduled run that fetches no known article."""
    output = tmp_path_factory.mktemp("scheduled")
    with WebDouble(sample_site, gzip=True, chunked=True) as double:
        first = run_crawl(double, output, *SCHEDULED_ARGS, run_id=RUN_IDS[0])
        refresh = ("-s", "NEWSARCHIVE_REFRESH_WINDOW=1000000")
        second = run_crawl(double, output, *SCHEDULED_ARGS, *refresh, run_id=RUN_IDS[1])
        third = run_crawl(double, output, *SCHEDULED_ARGS, run_id=RUN_IDS[2])
    for run in (first, second, third):
        assert run.returncode == 0, run.stdout[-3000:]
    assert len(first.items) >= 10 and second.items == [] and third.items == []
    # The premise: run 2 archived no payload of its own.
    kinds = [(r.rec_type, r.status) for r in iter_records(second.warcs[0]) if r.status]
    assert ("revisit", 304) in kinds and ("revisit", 200) in kinds
    assert not [k for k in kinds if k[0] == "response" and k[1] < 300], kinds
    assert not [r for r in third.requests if "/a/" in r["path"]], "run 3 re-fetched articles"
    return ScheduledRuns(first, second, third, output / "rferl")


@pytest.mark.slow
def test_replay_after_scheduled_runs_resolves_revisits_across_runs(
    scheduled, sample_site, tmp_path
):
    """Replaying run 2, ``latest`` (run 3) or the spider folder rebuilds run 1's items."""
    args = SCHEDULED_ARGS
    first, second, spider_folder = scheduled.first, scheduled.second, scheduled.spider_folder
    want = {item["url"]: item for item in first.items}
    with WebDouble(sample_site) as witness:
        for name, archive in (
            ("second", second.folder),
            ("latest", spider_folder / "latest"),
            ("all", spider_folder),
        ):
            replay = run_crawl(
                witness,
                tmp_path / "replays",
                *args,
                *("-s", f"NEWSARCHIVE_REPLAY={archive}"),
                run_id=f"replay-{name}",
            )
            sent = witness.requests()
            assert replay.returncode == 0, (name, replay.stdout[-3000:])
            assert sent == [], f"{name}: replay went to the network: {sent[:3]}"
            assert replay.stats.get("newsarchive/replay/miss", 0) == 0, name
            got = {item["url"]: item for item in replay.items}
            assert sorted(got) == sorted(want), name
            for url, item in want.items():
                for field_name, value in item.items():
                    if field_name not in FETCH_TIME_FIELDS + RUN_STATE_FIELDS:
                        assert got[url][field_name] == value, (name, url, field_name)
            if name != "all":  # a run folder alone holds revisits: its siblings were read
                assert replay.stats["newsarchive/replay/sibling_runs"] == 2, name


@pytest.mark.slow
def test_pywb_resolves_revisits_only_with_every_run_in_the_collection(scheduled, tmp_path):
    """docs/replay.md: add the WARCs of all runs (``output/rferl/[0-9]*/*.warc.gz``); ``latest``
    alone holds revisits whose originals pywb cannot find."""
    from tests.test_browser_replay import SEED, _env, free_port, pywb_venv, wait_until_up

    venv = pywb_venv()
    wb_manager = str(venv / "bin/wb-manager")
    # The documented glob: every run folder (run ids are UTC times), not the ``latest`` link.
    every_run = sorted(scheduled.spider_folder.glob("[0-9]*/*.warc.gz"))
    latest = sorted((scheduled.spider_folder / "latest").glob("*.warc.gz"))
    assert len(every_run) == 3 and latest
    for name, warcs in (("all", every_run), ("latest", latest)):
        subprocess.run([wb_manager, "init", name], cwd=tmp_path, env=_env(), check=True)
        subprocess.run(
            [wb_manager, "add", name, *map(str, warcs)], cwd=tmp_path, env=_env(), check=True
        )
    port = free_port()
    with open(tmp_path / "wayback.log", "wb") as log:
        process = subprocess.Popen(
            [str(venv / "bin/wayback"), "-b", "127.0.0.1", "-p", str(port)],
            cwd=tmp_path,
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{base}/all/", process)
            sitemap = "https://www.rferl.org/sitemap.xml"  # run 3 holds only a revisit of it
            status, body = _get(f"{base}/all/mp_/{sitemap}")
            assert status == 200 and b"<sitemapindex" in body
            status, _ = _get(f"{base}/latest/mp_/{sitemap}")
            assert status != 200
            # The seed article as run 1 archived it (its 14-digit timestamp).
            (first,) = [i for i in scheduled.first.items if i["url"] == SEED]
            stamp = "".join(c for c in first["fetched_at"] if c.isdigit())[:14]
            status, body = _get(f"{base}/all/{stamp}mp_/{SEED}")
            assert status == 200 and first["title"].encode() in body
            # pywb serves a server-not-modified revisit as the 304 it records (documented).
            status, _ = _get(f"{base}/all/mp_/{SEED}")
            assert status == 304
        finally:
            process.terminate()
            process.wait(timeout=10)


def _get(url: str) -> tuple[int, bytes]:
    """Status and body, without any proxy (pywb is on loopback)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
