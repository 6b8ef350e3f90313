"""The archive index: URLs answered by the right run, revisits resolved across sibling runs.

Runs are written with the real WARC writer the way scheduled runs write them: the second run's
unchanged payloads are identical-payload-digest revisits of the first run's records (the state
store's lookup), and its 304 answers are server-not-modified revisits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsarchive.archive.index import ArchiveIndex, iter_responses
from newsarchive.archive.records import HttpExchange, warc_date
from newsarchive.archive.writer import RecordLocation, RotatingWarcWriter, WarcWriterConfig

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PAGE = b"<html><body><h1>Old news</h1></body></html>"
SITEMAP = b"<urlset><url><loc>https://n.example/a/1.html</loc></url></urlset>"


def _ex(url: str, status: int, payload: bytes, when: datetime, **headers: str) -> HttpExchange:
    kind = "text/html" if url.endswith(".html") else "application/xml"
    return HttpExchange(
        url=url,
        method="GET",
        request_headers=[("Accept", "*/*")],
        status=status,
        response_headers=[("Content-Type", kind), *headers.items()],
        payload=payload,
        fetched_at=when,
    )


def scheduled_runs(spider: Path) -> dict[str, RecordLocation]:
    """r1 fetches everything; r2 (an hour later) gets the same sitemap and a 304 for the page;
    r3 (two hours later) gets the same sitemap only (the known page is not re-fetched)."""
    spider.mkdir(parents=True)
    (spider / "state.sqlite").write_bytes(b"")  # marks a spider folder (content not read)
    originals: dict[str, tuple[str, str, str]] = {}
    where: dict[str, RecordLocation] = {}

    def run(name: str, exchanges, not_modified: bool = False) -> None:
        config = WarcWriterConfig(
            directory=spider / name, run_id=name, lookup=lambda digest: originals.get(digest)
        )
        writer = RotatingWarcWriter(config)
        for ex in exchanges:
            if ex.status == 304:
                uri, date, record_id = originals["page"]
                loc = writer.write_exchange(ex, not_modified_of=(uri, date, record_id, None))
            else:
                loc = writer.write_exchange(ex)
            where[f"{name} {ex.url}"] = loc
            if name == "r1":
                key = "page" if ex.url.endswith(".html") else loc.payload_digest
                originals[key] = (ex.url, warc_date(ex.fetched_at), loc.record_id)
                originals[loc.payload_digest] = originals[key]
        writer.close()

    sitemap, page = "https://n.example/sitemap.xml", "https://n.example/a/1.html"
    run("r1", [_ex(sitemap, 200, SITEMAP, T0), _ex(page, 200, PAGE, T0, ETag='"v1"')])
    later = T0 + timedelta(hours=1)
    run("r2", [_ex(sitemap, 200, SITEMAP, later), _ex(page, 304, b"", later, ETag='"v1"')])
    run("r3", [_ex(sitemap, 200, SITEMAP, T0 + timedelta(hours=2))])
    return where


def test_a_later_run_folder_replays_through_its_siblings(tmp_path):
    spider = tmp_path / "out" / "news"
    scheduled_runs(spider)
    index = ArchiveIndex([spider / "r2"])
    assert not index.related.loaded
    sitemap = index.lookup("https://n.example/sitemap.xml")
    # Its original is in r1: read then, not before.
    assert index.related.loaded and sitemap.rec_type == "revisit"
    assert sitemap.payload == SITEMAP and sitemap.source.path.parent.name == "r2"
    page = index.lookup("https://n.example/a/1.html")
    # A 304 revisit stands for the original response: 200, its headers, its body.
    assert page.rec_type == "revisit" and page.status == 200 and page.payload == PAGE
    assert page.header("Content-Type") == "text/html"


def test_a_run_that_skipped_known_pages_gets_them_from_earlier_runs(tmp_path):
    spider = tmp_path / "out" / "news"
    scheduled_runs(spider)
    (spider / "latest").symlink_to("r3")
    index = ArchiveIndex([spider / "latest"])
    assert [p.name for p in index.related.folders] == ["r1", "r2"]
    page = index.lookup("https://n.example/a/1.html")
    # The newest earlier run holding the page answers (r2's 304, resolved into r1).
    assert page.source.path.parent.name == "r2" and page.payload == PAGE
    assert index.lookup("https://n.example/never.html") is None


def test_the_first_run_does_not_see_later_captures(tmp_path):
    """An earlier run replays as it was: a later run's captures never answer its URLs."""
    spider = tmp_path / "out" / "news"
    scheduled_runs(spider)
    page = "https://n.example/a/2.html"
    writer = RotatingWarcWriter(WarcWriterConfig(directory=spider / "r4", run_id="r4"))
    writer.write_exchange(_ex(page, 200, b"<html>new</html>", T0 + timedelta(hours=3)))
    writer.close()
    first = ArchiveIndex([spider / "r1"])
    assert first.lookup(page) is None and first.related.loaded
    assert ArchiveIndex([spider / "r4"]).lookup(page).payload == b"<html>new</html>"


def test_the_spider_folder_answers_with_the_newest_capture(tmp_path):
    spider = tmp_path / "out" / "news"
    where = scheduled_runs(spider)
    index = ArchiveIndex([spider])
    assert len(index.files) == 3 and not index.related.folders
    sitemap = index.lookup("https://n.example/sitemap.xml")
    assert sitemap.source.path.parent.name == "r3" and sitemap.payload == SITEMAP
    page = index.lookup("https://n.example/a/1.html")
    assert page.record_id == where["r2 https://n.example/a/1.html"].record_id
    assert page.resolved_from == where["r1 https://n.example/a/1.html"].record_id


def test_without_a_spider_folder_nothing_else_is_read(tmp_path):
    """Folders that are not our run folders (a plain collection of WARCs) stay closed."""
    spider = tmp_path / "out" / "news"
    scheduled_runs(spider)
    (spider / "state.sqlite").unlink()
    index = ArchiveIndex([spider / "r2"])
    assert index.related.folders == []
    record = index.lookup("https://n.example/sitemap.xml")
    assert record.rec_type == "revisit" and record.payload is None
    assert ArchiveIndex([spider / "r1"], related=False).related.folders == []


def test_resolution_by_target_uri_and_date_when_the_id_is_unknown(tmp_path):
    """Other tools' revisits may carry only WARC-Refers-To-Target-URI + -Date (no record id)."""
    folder = tmp_path / "run"
    writer = RotatingWarcWriter(WarcWriterConfig(directory=folder, run_id="x", dedupe=False))
    url = "https://n.example/a/1.html"
    # The same payload at another URL, archived first: a digest lookup would pick this one.
    writer.write_exchange(_ex("https://n.example/copy.html", 200, PAGE, T0))
    first = writer.write_exchange(_ex(url, 200, PAGE, T0))
    writer.close()
    lookup = {first.payload_digest: (url, warc_date(T0), "<urn:uuid:not-in-any-file>")}
    config = WarcWriterConfig(directory=folder, run_id="y", lookup=lookup.get)
    writer = RotatingWarcWriter(config)
    writer.write_exchange(_ex(url, 200, PAGE, T0 + timedelta(hours=1)))
    writer.close()
    revisits = [r for r in iter_responses([folder]) if r.rec_type == "revisit"]
    assert len(revisits) == 1 and revisits[0].resolved_from == first.record_id
