"""Repair what a killed run left behind: ``.open`` WARC files and a torn last JSONL line.

The writer appends one gzip member per record and flushes after each exchange, so a kill can
only tear the *last* member. Repair keeps every complete member, cuts the rest, checks the
result with warcio (digests included) and gives the file its final name, as the writer would
have. Nothing here imports Scrapy: ``python -m newsarchive.archive.repair FOLDER`` works too.
"""

from __future__ import annotations

import argparse
import json
import os
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.writer import OPEN_SUFFIX

_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class WarcRepair:
    """What repairing one ``.open`` WARC did."""

    file: str
    """Final file name (the ``.open`` suffix removed), or the ``.open`` name if not renamed."""
    size_before: int
    size_after: int
    records: int
    """Complete records kept."""
    action: str
    """``closed`` (nothing torn), ``trimmed`` (torn tail cut), ``removed`` (no complete
    record: the file was deleted) or ``failed`` (left as it was, see ``error``)."""
    error: str | None = None

    @property
    def trimmed_bytes(self) -> int:
        return self.size_before - self.size_after


@dataclass(frozen=True)
class JsonlRepair:
    """What repairing one JSONL file did."""

    file: str
    size_before: int
    size_after: int
    lines: int
    """Complete lines kept."""

    @property
    def trimmed_bytes(self) -> int:
        return self.size_before - self.size_after


def complete_members_end(path: Path) -> tuple[int, int]:
    """(end offset of the last complete gzip member, number of complete members)."""
    end = 0
    members = 0
    position = 0  # file offset of the start of the current chunk
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            data, base = chunk, position
            position += len(chunk)
            while data:
                try:
                    decoder.decompress(data)
                except zlib.error:
                    return end, members  # garbage after the last good member
                if not decoder.eof:
                    break  # member continues in the next chunk (or is torn)
                rest = decoder.unused_data
                members += 1
                end = base + len(data) - len(rest)
                data, base = rest, end
                decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    return end, members


def check_warc(path: Path) -> tuple[int, str | None]:
    """Read every record with warcio, checking digests; (records, first problem or None)."""
    records = 0
    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, check_digests=True):
                record.content_stream().read()
                records += 1
                checker = record.digest_checker
                if checker.passed is False:
                    return records, f"digest mismatch in record {records}: {checker.problems}"
    except Exception as exc:  # warcio raises many types for a broken file; report any
        return records, f"{exc.__class__.__name__}: {exc}"
    return records, None


def repair_warc(open_path: str | Path) -> WarcRepair:
    """Trim a ``.open`` WARC to its last complete record, verify it, give it its final name."""
    path = Path(open_path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if size and magic != _GZIP_MAGIC:
        return WarcRepair(path.name, size, size, 0, "failed", "not a gzip WARC; left as is")
    end, members = complete_members_end(path)
    if members == 0:
        path.unlink()
        return WarcRepair(path.name, size, 0, 0, "removed")
    if end < size:
        with open(path, "r+b") as fh:
            fh.truncate(end)
            fh.flush()
            os.fsync(fh.fileno())
    records, problem = check_warc(path)
    if problem is not None:
        return WarcRepair(path.name, size, end, records, "failed", problem)
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    if final.exists():
        return WarcRepair(path.name, size, end, records, "failed", f"{final.name} exists")
    os.replace(path, final)
    return WarcRepair(final.name, size, end, records, "trimmed" if end < size else "closed")


def repair_jsonl(path: str | Path) -> JsonlRepair | None:
    """Cut a torn last line (no newline, or not JSON); None when the file was already whole."""
    path = Path(path)
    if not path.exists():
        return None
    data = path.read_bytes()
    size = len(data)
    keep = data.rfind(b"\n") + 1  # 0 when there is no complete line
    lines = data[:keep].splitlines()
    # A line can be complete but cut short only if a write was interrupted mid-way and a later
    # one appended; check the last kept line too so a bad one never reaches a reader.
    while lines:
        try:
            json.loads(lines[-1])
            break
        except ValueError:
            keep -= len(lines.pop()) + 1
    if keep == size:
        return None
    with open(path, "r+b") as fh:
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
    return JsonlRepair(path.name, size, keep, len(lines))


def open_warcs(folder: str | Path) -> list[Path]:
    """The ``.open`` WARC files of one run folder."""
    return sorted(Path(folder).glob(f"*.warc*{OPEN_SUFFIX}"))


@dataclass(frozen=True)
class RunRepair:
    """Everything repaired in one run folder."""

    folder: str
    warcs: tuple[WarcRepair, ...]
    jsonl: tuple[JsonlRepair, ...]

    @property
    def changed(self) -> bool:
        return bool(self.warcs or self.jsonl)

    def as_dict(self) -> dict:
        return {
            "folder": self.folder,
            "warcs": [{**asdict(w), "trimmed_bytes": w.trimmed_bytes} for w in self.warcs],
            "jsonl": [{**asdict(j), "trimmed_bytes": j.trimmed_bytes} for j in self.jsonl],
        }


def repair_run_folder(folder: str | Path) -> RunRepair:
    """Repair every ``.open`` WARC and every ``*.jsonl`` of a run folder a crash left behind."""
    folder = Path(folder)
    warcs = tuple(repair_warc(path) for path in open_warcs(folder))
    jsonl = tuple(fixed for path in sorted(folder.glob("*.jsonl")) if (fixed := repair_jsonl(path)))
    return RunRepair(str(folder), warcs, jsonl)


def repair_worker_files(folder: str | Path, worker: str) -> RunRepair:
    """Repair only the files of one worker of a distributed run (named ``*-<worker>-*.warc.gz``
    and ``*-<worker>.jsonl``): the other workers may still be writing theirs."""
    folder = Path(folder)
    warcs = tuple(repair_warc(path) for path in open_warcs(folder) if f"-{worker}-" in path.name)
    lines = sorted(folder.glob(f"*-{worker}.jsonl"))
    jsonl = tuple(fixed for path in lines if (fixed := repair_jsonl(path)))
    return RunRepair(str(folder), warcs, jsonl)


def main(argv: list[str] | None = None) -> int:
    """``python -m newsarchive.archive.repair FOLDER...``: repair and print a JSON report.

    Exit status: 0 repaired (or nothing to repair), 1 a WARC could not be repaired, 2 bad
    arguments (a folder that does not exist must not look like "nothing to repair").
    """
    parser = argparse.ArgumentParser(
        prog="python -m newsarchive.archive.repair",
        description="Repair what a killed run left in its run folder: close or trim its .open"
        " WARC files and cut a torn last line from its JSONL files. Prints a JSON report.",
        epilog="Exit status: 0 done (also when there was nothing to repair), 1 a WARC could"
        " not be repaired, 2 bad arguments.",
    )
    parser.add_argument(
        "folders",
        nargs="+",
        metavar="RUN_FOLDER",
        help="a run folder, such as output/rferl/20260101T000000000Z",
    )
    args = parser.parse_args(argv)
    missing = [folder for folder in args.folders if not Path(folder).is_dir()]
    if missing:
        parser.error(
            "not a run folder (no such directory): "
            + ", ".join(missing)
            + "; give the folder of the killed run, such as output/rferl/<run id>"
        )
    failed = False
    for folder in args.folders:
        report = repair_run_folder(folder)
        failed |= any(w.action == "failed" for w in report.warcs)
        print(json.dumps(report.as_dict(), indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
