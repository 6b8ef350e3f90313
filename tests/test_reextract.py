"""``scrapy reextract``: the JSONL rebuilt from the archive alone, on a run folder and on the
shared third-party WARC corpus (read in place)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RotatingWarcWriter, WarcWriterConfig
from newsarchive.commands.itemdiff import diff_report
from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import REPO, SAMPLE_ARGS, run_crawl
from tests.test_bounded_extraction import MiB, bloated, many_paragraphs

pytestmark = pytest.mark.slow


def reextract(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "reextract", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def crawl(sample_site, tmp_path_factory):
    double = WebDouble(sample_site, gzip=True).start()
    try:
        result = run_crawl(
            double,
            tmp_path_factory.mktemp("out"),
            *SAMPLE_ARGS,
            run_id="live",
        )
    finally:
        double.stop()
    assert result.returncode == 0, result.stdout[-3000:]
    return result


def test_run_folder_rebuilds_the_same_items(crawl, tmp_path):
    new = tmp_path / "new.jsonl"
    proc = reextract(str(crawl.folder), "-O", str(new), "--diff", str(crawl.folder / "items.jsonl"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rebuilt = {item["url"]: item for item in _lines(new)}
    live = {item["url"]: item for item in crawl.items}
    assert sorted(rebuilt) == sorted(live)
    for url, want in live.items():
        got = rebuilt[url]
        # Every field, provenance included; version and previous_digest (the crawl's state
        # store decided them) come back from the item the crawl archived beside the response.
        assert want["version"] == 1
        for name in got:
            assert got[name] == want[name], f"{url}: {name}"
    assert f"{len(live)} articles" in proc.stdout
    assert f"0 changed, {len(live)} unchanged, 0 only in new, 0 only in old" in proc.stdout


def test_diff_names_changed_fields(crawl, tmp_path):
    old = tmp_path / "old.jsonl"
    items = [dict(item) for item in crawl.items]
    items[0]["title"] = "An older headline"
    items[1]["text"] = items[1]["text"] + "\n\nA paragraph the old extractor kept."
    dropped = items.pop()
    old.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    report = diff_report(old, crawl.folder / "items.jsonl")
    assert f"changed {items[0]['url']}" in report
    assert '  title: "An older headline" -> ' in report
    assert f"changed {items[1]['url']} (1 field(s))" in report
    assert f"only in new: {dropped['url']}" in report
    assert report.splitlines()[-1].endswith(
        f"2 changed, {len(items) - 2} unchanged, 1 only in new, 0 only in old"
    )


def test_foreign_warc_corpus(corpora, tmp_path):
    folder = corpora / "warc"
    new = tmp_path / "foreign.jsonl"
    proc = reextract(str(folder), "-O", str(new), "--workers", "2")
    # Malformed files are reported (exit 1) but what every file holds is still extracted.
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    summary = proc.stdout.splitlines()[0]
    assert "skipped: not HTML" in summary and "unreadable" in summary
    assert "unreadable: " in proc.stderr and "at offset" in proc.stderr
    items = _lines(new)
    assert len(items) >= 10
    assert all(item["url"].startswith("http") and item["text"] for item in items)
    assert all(item["warc"]["record_id"] for item in items)


def test_usage_errors(tmp_path):
    proc = reextract(str(tmp_path / "missing"), "-O", str(tmp_path / "x.jsonl"))
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = reextract(str(tmp_path), "-O", str(tmp_path / "x.jsonl"), "--timeout", "-1")
    assert proc.returncode == 2 and "--timeout -1.0: give 0 (no bound) or more" in proc.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"example.warc 1.2.3.4 20250101 text/html warc\n", "it holds text starting "
         "'example.warc 1.2.3.4 20250101 text/html"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "it holds a PDF document"),
        (bytes(range(256)) * 4, "it holds binary data"),
        (b"", "nothing: it is empty"),
        (b"\x1f\x8b\x08\x00garbage", "a gzip stream with no data in it"),
    ],
)  # fmt: skip
def test_a_file_that_is_no_archive_is_refused_in_words(tmp_path, content, said):
    given = tmp_path / "run.warc"
    given.write_bytes(content)
    proc = reextract(str(given), "-O", str(tmp_path / "x.jsonl"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(
        f"scrapy reextract: {given}: not a WARC, ARC or WACZ file: {said}"
    ), proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.isascii()
    assert "not a non-negative integer" not in proc.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_damaged_bytes_inside_an_archive_are_said_in_words(tmp_path):
    warc = write_warc(tmp_path, [(KYRGYZ, _page(KYRGYZ))])
    with warc.open("ab") as fh:
        fh.write(bytes(range(128, 256)) * 3 + b"\n")
    proc = reextract(str(warc), "-O", str(tmp_path / "x.jsonl"))
    assert proc.returncode == 1
    (line,) = [x for x in proc.stderr.splitlines() if "unreadable:" in x]
    assert "binary data where a WARC/ARC header line should start" in line
    assert line.isascii() and "\\x" not in line, line
    assert len(_lines(tmp_path / "x.jsonl")) == 1  # the record before the damage is kept


# -- bounded extraction: a hostile page in the archive -------------------------------------------
SITE = REPO / "tests" / "site"
LAVROV = "https://www.rferl.org/a/russian_foreign_minister_lavrov_to_syria_on_diplomatic_mission/24475926.html"
KYRGYZ = "https://www.rferl.org/a/kyrgyzstan-media-law-parliament-vote/33422970.html"
HOSTILE = "https://www.rferl.org/a/hostile-page/33999999.html"


def _page(url: str) -> bytes:
    return (SITE / url.removeprefix("https://")).read_bytes()


def write_warc(
    folder: Path,
    pages: list[tuple[str, bytes]],
    headers: dict[str, list[tuple[str, str]]] | None = None,
) -> Path:
    """One WARC of 200 HTML responses, in this order (``headers``: more response headers of
    some pages, by URL)."""
    writer = RotatingWarcWriter(WarcWriterConfig(directory=folder, run_id="hostile"))
    for url, body in pages:
        more = (headers or {}).get(url, [])
        writer.write_exchange(
            HttpExchange(
                url=url,
                method="GET",
                request_headers=[("Host", "www.rferl.org")],
                status=200,
                response_headers=[("Content-Type", "text/html; charset=utf-8"), *more],
                payload=body,
                fetched_at=datetime(2025, 5, 24, 12, 0, tzinfo=UTC),
            )
        )
    (warc,) = writer.close()
    return warc


def test_a_hanging_page_times_out_and_the_rebuild_goes_on(tmp_path):
    """An article of 100,000 one-letter paragraphs keeps trafilatura busy for a minute or more
    (``tests/test_bounded_extraction.py``); with one worker, the page after it is extracted by
    the worker that replaced the killed one."""
    warc = write_warc(
        tmp_path / "run",
        [(LAVROV, _page(LAVROV)), (HOSTILE, many_paragraphs()), (KYRGYZ, _page(KYRGYZ))],
    )
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    proc = reextract(str(warc), "-O", str(out), "--timeout", "0.5", "--workers", "1")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert elapsed < 30, f"took {elapsed:.1f} s: the hostile page was waited on"
    items = _lines(out)
    assert [item["url"] for item in items] == [LAVROV, KYRGYZ]
    assert all(item["text"] and item["run_id"] == "hostile" for item in items)
    summary = proc.stdout.splitlines()[0]
    assert "1 workers, 0.5 s and 1073741824 bytes per page, 1 replaced" in summary
    assert "2 articles, 1 extraction_timeout ->" in summary, summary
    assert f"  extraction_timeout: {HOSTILE}: not finished after" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_page_over_the_memory_cap_fails_and_the_rebuild_goes_on(tmp_path):
    """A 30 MB article needs far more than 256 MiB of address space; the default timeout comes
    from the project's ``NEWSARCHIVE_EXTRACT_TIMEOUT`` and ``-s`` overrides the worker count."""
    warc = write_warc(tmp_path / "run", [(HOSTILE, bloated()), (LAVROV, _page(LAVROV))])
    out = tmp_path / "out.jsonl"
    proc = reextract(
        str(warc),
        "-O",
        str(out),
        "--max-memory",
        str(256 * MiB),
        "-s",
        "NEWSARCHIVE_EXTRACT_WORKERS=1",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [item["url"] for item in _lines(out)] == [LAVROV]
    summary = proc.stdout.splitlines()[0]
    assert f"1 workers, 30 s and {256 * MiB} bytes per page, 1 replaced" in summary
    assert "1 articles, 1 extraction_memory ->" in summary, summary
    assert f"  extraction_memory: {HOSTILE}: over the worker's memory cap" in proc.stderr


def test_a_run_of_revisits_is_rebuilt_through_its_sibling_runs(sample_site, tmp_path):
    """A scheduled run that re-checked every article archived only revisits (304s and
    identical payloads): reextract resolves them into the first run's WARCs, sitemap hints
    included, and rebuilds the first run's items. The spider folder gives every capture."""
    args = SAMPLE_ARGS
    output = tmp_path / "out"
    with WebDouble(sample_site, gzip=True) as double:
        first = run_crawl(double, output, *args, run_id="r1")
        second = run_crawl(
            double, output, *args, "-s", "NEWSARCHIVE_REFRESH_WINDOW=1000000", run_id="r2"
        )
    assert first.returncode == 0 and second.returncode == 0, second.stdout[-3000:]
    assert second.items == [] and second.stats["newsarchive/conditional/not_modified"] >= 10

    new = tmp_path / "r2.jsonl"
    proc = reextract(
        str(second.folder), "-O", str(new), "--diff", str(first.folder / "items.jsonl")
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "revisit without original" not in proc.stdout
    rebuilt = {item["url"]: item for item in _lines(new)}
    want = {item["url"]: item for item in first.items}
    assert sorted(rebuilt) == sorted(want)
    for url, item in want.items():
        got = rebuilt[url]
        for name, value in item.items():
            if name not in ("warc", "fetched_at", "run_id", "version", "previous_digest"):
                assert got[name] == value, f"{url}: {name}"
        assert got["run_id"] == "r2" and got["warc"]["filename"].startswith("newsarchive-r2-")
    assert f"0 changed, {len(want)} unchanged, 0 only in new, 0 only in old" in proc.stdout

    everything = tmp_path / "all.jsonl"
    proc = reextract(str(output / "rferl"), "-O", str(everything))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = _lines(everything)
    assert len(lines) == 2 * len(want)
    assert sorted({item["run_id"] for item in lines}) == ["r1", "r2"]
