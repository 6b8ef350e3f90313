"""Repair of what a crash leaves: ``.open`` WARCs with a torn tail, a torn last JSONL line.

Fixtures are built the way a crash builds them: a real writer writes real records and is never
closed, then the file is cut at a chosen byte. Each is named after its defect.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.records import HttpExchange
from newsarchive.archive.repair import (
    complete_members_end,
    repair_jsonl,
    repair_run_folder,
    repair_warc,
)
from newsarchive.archive.writer import OPEN_SUFFIX, RotatingWarcWriter, WarcWriterConfig


def exchange(n: int) -> HttpExchange:
    return HttpExchange(
        url=f"https://www.rferl.org/a/x/{n}.html",
        method="GET",
        request_headers=[("User-Agent", "t")],
        status=200,
        response_headers=[("Content-Type", "text/html")],
        payload=(f"<p>article {n}</p>" * 50).encode(),
        fetched_at=datetime(2026, 11, 28, tzinfo=UTC),
    )


def crashed_warc(folder: Path, exchanges: int = 3) -> tuple[Path, list[int]]:
    """An ``.open`` WARC as a killed writer leaves it; returns it and each exchange's end offset.

    The writer flushes after every exchange, so a copy of its ``.open`` file taken before
    ``close()`` holds exactly what a SIGKILL at that moment would leave on disk.
    """
    live = folder.parent / f"{folder.name}-live"
    writer = RotatingWarcWriter(WarcWriterConfig(directory=live, run_id="killed"))
    ends = []
    try:
        for n in range(exchanges):
            writer.write_exchange(exchange(n))
            (source,) = live.glob(f"*{OPEN_SUFFIX}")
            ends.append(source.stat().st_size)  # end of this exchange's request record
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / source.name
        path.write_bytes(source.read_bytes())
    finally:
        writer.close()
    return path, ends


def complete_members_end_of_first(data: bytes) -> int:
    """Length of the first gzip member in ``data``."""
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    decoder.decompress(data)
    return len(data) - len(decoder.unused_data)


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def record_types(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        return [r.rec_type for r in ArchiveIterator(fh)]


def test_whole_open_warc_is_closed_without_cutting(tmp_path):
    path, _ = crashed_warc(tmp_path / "run")
    size = path.stat().st_size
    report = repair_warc(path)
    assert report.action == "closed" and report.trimmed_bytes == 0
    final = path.parent / report.file
    assert final.name == path.name.removesuffix(OPEN_SUFFIX) and final.stat().st_size == size
    assert not path.exists()
    assert warcio_check(final).returncode == 0
    # warcinfo + (response, request) x 3
    assert record_types(final) == ["warcinfo"] + ["response", "request"] * 3


@pytest.mark.parametrize("cut", [1, 10, 200, -1])
def test_torn_last_record_is_cut_off(tmp_path, cut):
    path, _ = crashed_warc(tmp_path / "run")
    whole = path.stat().st_size
    # Append half of one more record (what a kill mid-write leaves).
    more, more_ends = crashed_warc(tmp_path / "spare", exchanges=4)
    # The 4th exchange's response record only (its own gzip member), torn at ``cut``.
    tail = more.read_bytes()[more_ends[2] : more_ends[3]]
    response_member = complete_members_end_of_first(tail)
    tail = tail[:response_member]
    cut_at = len(tail) + cut if cut < 0 else cut
    with open(path, "ab") as fh:
        fh.write(tail[:cut_at])
    report = repair_warc(path)
    assert report.action == "trimmed", report
    assert report.trimmed_bytes == cut_at and report.size_after == whole
    final = path.parent / report.file
    assert warcio_check(final).returncode == 0
    assert record_types(final) == ["warcinfo"] + ["response", "request"] * 3


def test_torn_first_record_removes_the_file(tmp_path):
    path, _ = crashed_warc(tmp_path / "run", exchanges=1)
    data = path.read_bytes()
    path.write_bytes(data[:20])  # not even the warcinfo record survived
    report = repair_warc(path)
    assert report.action == "removed" and not path.exists()
    assert list(path.parent.iterdir()) == []


def test_garbage_after_the_last_record_is_cut(tmp_path):
    path, ends = crashed_warc(tmp_path / "run")
    with open(path, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00garbage that is not deflate")
    assert complete_members_end(path)[0] == ends[-1]
    report = repair_warc(path)
    assert report.action == "trimmed" and report.size_after == ends[-1]


def test_not_a_gzip_warc_is_left_alone(tmp_path):
    path = tmp_path / f"x.warc.gz{OPEN_SUFFIX}"
    path.write_bytes(b"WARC/1.1\r\n")
    report = repair_warc(path)
    assert report.action == "failed" and path.exists()


def test_torn_jsonl_line_is_cut(tmp_path):
    path = tmp_path / "items.jsonl"
    lines = [json.dumps({"n": n}) for n in range(3)]
    path.write_text("\n".join(lines) + "\n" + '{"n": 3, "text": "cut he', "utf-8")
    report = repair_jsonl(path)
    assert report is not None and report.lines == 3
    assert path.read_text("utf-8").splitlines() == lines
    assert repair_jsonl(path) is None  # whole now: nothing to do


def test_run_folder_repair_and_cli(tmp_path):
    path, _ = crashed_warc(tmp_path / "run")
    with open(path, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00\x00")
    (path.parent / "items.jsonl").write_text('{"a": 1}\n{"a"', "utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive.archive.repair", str(path.parent)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [w["action"] for w in report["warcs"]] == ["trimmed"]
    assert report["jsonl"][0]["lines"] == 1
    assert repair_run_folder(path.parent).changed is False  # idempotent


def _repair_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsarchive.archive.repair", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_help_describes_the_command_and_exits_0():
    proc = _repair_cli("--help")
    assert proc.returncode == 0, proc.stderr
    assert "RUN_FOLDER" in proc.stdout and ".open" in proc.stdout
    assert '"warcs"' not in proc.stdout  # not mistaken for a folder with nothing to repair


@pytest.mark.parametrize("args", [(), ("{missing}",), ("{run}", "{missing}")])
def test_cli_refuses_a_missing_folder_with_exit_2(tmp_path, args):
    run = tmp_path / "run"
    run.mkdir()
    missing = str(tmp_path / "no-such-run")
    proc = _repair_cli(*(a.format(run=run, missing=missing) for a in args))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""  # nothing repaired, no report that looks like "all fine"
    if args:
        assert f"not a run folder (no such directory): {missing}" in proc.stderr
    else:
        assert "RUN_FOLDER" in proc.stderr
