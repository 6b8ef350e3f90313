"""The self-check of a run folder: do its WARCs, index, items and WACZ hold together?

Run at the close of every crawl and by ``scrapy selfcheck``. Three questions, each answered with
the tools an archivist would use: does every WARC pass ``warcio check`` (every record parses,
every block and payload digest verifies); does every item's ``warc`` provenance resolve, through
the CDXJ index and by seeking to the offset, to the record it names; does the WACZ validate.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from newsarchive.archive import compression
from newsarchive.archive.cdxj import INDEX_PATH, CdxjEntry, read_cdxj, write_cdxj
from newsarchive.archive.verifying import VerifyingIterator
from newsarchive.archive.wacz import WaczSummary, pages_from_items, write_wacz
from newsarchive.archive.waczvalidator import check_wacz
from newsarchive.archive.writer import OPEN_SUFFIX

ITEMS_FILE = "items.jsonl"
REPORT_FILE = "selfcheck.json"
#: What reading a damaged WARC can raise (warcio, gzip, the cdxj-indexer on top of them).
#: What reading a damaged archive raises. warcio and cdxj-indexer meet a damaged record header
#: with whatever error the missing field leads to (AttributeError for a record whose
#: WARC-Target-URI line was hit), so those count as damage too: reported, never a crash.
ARCHIVE_ERRORS = (
    ArchiveLoadFailed,
    EOFError,
    OSError,
    zlib.error,
    compression.error,
    ValueError,
    StopIteration,
    AttributeError,
    KeyError,
    TypeError,
    IndexError,
)
#: Problems listed in full; past this, only counted (a broken 1 GiB WARC would list thousands).
MAX_LISTED = 50


@dataclass(frozen=True)
class SelfCheckOptions:
    """What to build and check; mirrors the NEWSARCHIVE_{CDXJ,WACZ,SELFCHECK}_ENABLED settings."""

    build_cdxj: bool = True
    build_wacz: bool = True
    check: bool = True
    #: Rebuild the index and WACZ even if they exist (the crawl always does; the command asks).
    rebuild: bool = True
    software: str = "newsarchive"


@dataclass
class SelfCheckReport:
    """Outcome of :func:`selfcheck_run`; written as ``selfcheck.json`` in the run folder."""

    folder: str
    passed: bool = True
    warcs: int = 0
    records: int = 0
    items: int = 0
    items_resolved: int = 0
    cdxj_lines: int = 0
    cdxj: str | None = None
    wacz: str | None = None
    wacz_bytes: int = 0
    wacz_pages: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def problem(self, message: str) -> None:
        self.passed = False
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(message)

    def summary_line(self) -> str:
        """One line for the run summary."""
        if self.passed:
            parts = [f"{self.warcs} WARC(s), {self.records} records verified"]
            if self.items:
                parts.append(f"{self.items_resolved}/{self.items} items resolved")
            if self.wacz:
                parts.append(f"WACZ {Path(self.wacz).name} valid ({self.wacz_pages} pages)")
            return "passed: " + ", ".join(parts) + f" ({self.seconds:.1f} s)"
        first = self.problems[0] if self.problems else "unknown problem"
        more = (
            f" (+{self.problem_count - 1} more, see {REPORT_FILE})"
            if self.problem_count > 1
            else ""
        )
        return f"FAILED: {first}{more}"


def check_warc(path: Path) -> tuple[int, list[str]]:
    """``warcio check`` of one file, and its gzip members: (records read, problems)."""
    iterator: VerifyingIterator | None = None
    problems: list[str] = []
    try:
        with path.open("rb") as fh:
            iterator = VerifyingIterator(fh, path)
            for _record in iterator:
                pass  # each record is read to its end, and verified, as the iterator moves on
    except ARCHIVE_ERRORS as exc:
        offset = iterator.last_offset if iterator is not None else None
        where = f"after offset {offset}" if offset is not None else "at the start"
        problems.append(f"{path.name}: unreadable {where} ({type(exc).__name__}: {exc})")
        # Where warcio gave up, say which gzip member is damaged (a read of its own).
        damage = gzip_damage(path) if path.name.endswith(".gz") else None
        if damage is not None and (iterator is None or iterator.gzip_problem is None):
            problems.append(f"{path.name}: {damage}")
    if iterator is not None:
        problems[:0] = iterator.problems
    return (iterator.records if iterator else 0), problems


def index_and_check(warcs: list[Path], index_file: Path) -> tuple[int, int, list[str]]:
    """Write the CDXJ index and ``warcio check`` every WARC in one read of each:
    (index lines, records read, problems). Raises what :func:`write_cdxj` raises; the caller
    then checks the files one by one (:func:`check_warc`) to say where they are damaged."""
    iterators: list[VerifyingIterator] = []

    def verifying(fh: BinaryIO, path: Path, **kwargs) -> VerifyingIterator:
        iterators.append(VerifyingIterator(fh, path, **kwargs))
        return iterators[-1]

    lines = write_cdxj(warcs, index_file, iterator=verifying)
    problems = [problem for iterator in iterators for problem in iterator.problems]
    return lines, sum(iterator.records for iterator in iterators), problems


def gzip_damage(path: Path) -> str | None:
    """The first gzip member of ``path`` that does not decompress cleanly, or None.

    The check's iterator notes such damage as it reads (:mod:`newsarchive.archive.verifying`);
    this separate read says where when warcio could not read the file at all. Output is
    bounded per call.
    """
    member_start = consumed = 0
    inflater = compression.inflater()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            data = chunk
            while data:
                try:
                    inflater.decompress(data, 1 << 20)
                except compression.error as exc:
                    return f"gzip member at offset {member_start} is damaged ({exc})"
                if inflater.eof:
                    consumed += len(data) - len(inflater.unused_data)
                    member_start = consumed
                    data = inflater.unused_data
                    inflater = compression.inflater()
                else:
                    consumed += len(data) - len(inflater.unconsumed_tail)
                    data = inflater.unconsumed_tail
    if consumed > member_start:
        return f"gzip member at offset {member_start} is truncated"
    return None


def read_record_at(path: Path, offset: int) -> dict[str, Any]:
    """The WARC headers of the record at ``offset`` (seeking, as a replay tool does)."""
    with path.open("rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)))
        headers = record.rec_headers
        return {
            "type": headers.get_header("WARC-Type"),
            "record_id": headers.get_header("WARC-Record-ID"),
            "url": headers.get_header("WARC-Target-URI"),
            "payload_digest": headers.get_header("WARC-Payload-Digest"),
        }


def check_provenance(
    folder: Path, items: Iterable[dict[str, Any]], index: list[CdxjEntry] | None
) -> tuple[int, int, list[str]]:
    """Resolve items' ``warc`` through the index and by seeking: (items, resolved, problems)."""
    by_location = {(e.filename, e.offset): e for e in index or []}
    count = resolved = 0
    problems: list[str] = []
    for item in items:
        count += 1
        ref = item.get("warc") or {}
        label = f"item {item.get('article_id') or item.get('url')}"
        if not ref.get("filename") or ref.get("offset") is None:
            problems.append(f"{label}: no warc provenance")
            continue
        name, offset = ref["filename"], int(ref["offset"])
        if index is not None:
            entry = by_location.get((name, offset))
            if entry is None:
                problems.append(f"{label}: {name}@{offset} is not in {INDEX_PATH}")
                continue
            if entry.record_id != ref.get("record_id") or entry.length != ref.get("length"):
                problems.append(f"{label}: {INDEX_PATH} has another record at {name}@{offset}")
                continue
        path = folder / name
        if not path.exists():
            problems.append(f"{label}: WARC file {name} not in the run folder")
            continue
        try:
            found = read_record_at(path, offset)
        except ARCHIVE_ERRORS as exc:
            problems.append(f"{label}: no WARC record at {name}@{offset} ({exc})")
            continue
        expected = {
            "record_id": ref.get("record_id"),
            "url": item.get("url"),
            "payload_digest": ref.get("payload_digest"),
        }
        wrong = [k for k, v in expected.items() if v is not None and found[k] != v]
        if wrong:
            problems.append(f"{label}: record at {name}@{offset} differs in {', '.join(wrong)}")
            continue
        resolved += 1
    return count, resolved, problems


def _items(path: Path) -> Iterable[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def wacz_path(folder: Path) -> Path:
    """``<run folder>/<spider>-<run id>.wacz``: a name that still says what it is once copied."""
    return folder / f"{folder.parent.name}-{folder.name}.wacz"


def selfcheck_run(folder: Path, options: SelfCheckOptions = SelfCheckOptions()) -> SelfCheckReport:
    """Build the index and WACZ of a finished run folder (as asked), check it, write the report."""
    start = time.monotonic()
    folder = Path(folder)
    report = SelfCheckReport(folder=str(folder))
    warcs = sorted(folder.glob("*.warc.gz")) + sorted(folder.glob("*.warc"))
    for leftover in sorted(folder.glob(f"*.warc*{OPEN_SUFFIX}")):
        report.problem(f"{leftover.name}: WARC still open (the writer did not close it)")
    # No WARC (a run that got no response at all) is nothing to check, not a broken archive;
    # items pointing at missing files still fail below.
    index_file = folder / INDEX_PATH
    index: list[CdxjEntry] | None = None
    checked = False  # the WARCs were checked while being indexed
    if options.build_cdxj and (options.rebuild or not index_file.exists()):
        try:
            if options.check:
                report.cdxj_lines, report.records, problems = index_and_check(warcs, index_file)
                report.warcs, checked = len(warcs), True
                for problem in problems:
                    report.problem(problem)
            else:
                report.cdxj_lines = write_cdxj(warcs, index_file)
        except ARCHIVE_ERRORS as exc:
            report.problem(f"{INDEX_PATH}: cannot index the WARCs ({type(exc).__name__}: {exc})")
    if index_file.exists():
        report.cdxj = str(index_file)
        try:
            index = list(read_cdxj(index_file))
            report.cdxj_lines = len(index)
        except ValueError as exc:
            report.problem(f"{INDEX_PATH}: {exc}")
    wacz_file = wacz_path(folder)
    if warcs and options.build_wacz and (options.rebuild or not wacz_file.exists()):
        try:
            report.wacz_pages = _build_wacz(folder, warcs, index_file, wacz_file, options).pages
        except ARCHIVE_ERRORS as exc:
            report.problem(f"{wacz_file.name}: cannot build ({type(exc).__name__}: {exc})")
    if wacz_file.exists():
        report.wacz = str(wacz_file)
        report.wacz_bytes = wacz_file.stat().st_size
    if options.check:
        for warc in warcs if not checked else ():
            records, problems = check_warc(warc)
            report.warcs += 1
            report.records += records
            for problem in problems:
                report.problem(problem)
        report.items, report.items_resolved, problems = check_provenance(
            folder, _items(folder / ITEMS_FILE), index
        )
        for problem in problems:
            report.problem(problem)
        if report.wacz:
            wacz_check = check_wacz(wacz_file)
            report.wacz_pages = wacz_check.pages  # what the package lists, not what we meant
            for problem in wacz_check.problems:
                report.problem(f"{wacz_file.name}: {problem}")
    report.seconds = round(time.monotonic() - start, 3)
    write_report(folder / REPORT_FILE, report)
    return report


def _build_wacz(
    folder: Path, warcs: list[Path], index_file: Path, wacz_file: Path, options: SelfCheckOptions
) -> WaczSummary:
    """The WACZ needs an index: use the run's, or build a throwaway one if CDXJ is disabled."""
    temporary = not index_file.exists()
    index_for_wacz = index_file
    if temporary:
        index_for_wacz = folder / f".{INDEX_PATH.name}.for-wacz"
        write_cdxj(warcs, index_for_wacz)
    try:
        return write_wacz(
            wacz_file,
            warcs,
            index_for_wacz,
            pages_from_items(folder / ITEMS_FILE),
            title=f"newsarchive {folder.parent.name} run {folder.name}",
            software=options.software,
        )
    finally:
        if temporary and index_for_wacz.exists():
            index_for_wacz.unlink()


def write_report(path: Path, report: SelfCheckReport) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(report), indent=1), encoding="utf-8")
    tmp.replace(path)
