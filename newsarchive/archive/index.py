"""Look archived captures up by URL, and give revisit records their original's payload.

Scheduled runs archive a payload once: later runs write ``revisit`` records that point into the
earlier runs' WARCs (identical-payload-digest, and server-not-modified for 304 answers). A run
folder alone is therefore not the whole picture, so the index thinks in runs (the folder that
holds a WARC) and answers as follows:

* a URL is answered from the newest run that captured it, in capture order within that run (a
  retried 503 then 200 replays as such; past the last capture, the last one again);
* given one run folder of a spider folder (``<output>/<spider>/<run>/``), the other run folders
  next to it are read too, lazily, the first time something is missing: for the original of a
  revisit (any run), and for a URL the given run did not fetch (earlier runs only: the archive
  *as of* that run, which is what the scheduled run relied on when it skipped known articles);
* a revisit is resolved by ``WARC-Refers-To``, else ``WARC-Refers-To-Target-URI`` + ``-Date``,
  else its payload digest; a server-not-modified revisit (a 304) stands for the original
  response as a whole, so its original's status and headers are used, not the 304's.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from newsarchive.archive.reader import (
    RESPONSE_TYPES,
    ArchivedRecord,
    ArchiveError,
    RecordSource,
    archive_files,
    iter_records,
    read_record,
    url_key,
)
from newsarchive.archive.records import parse_warc_date

logger = logging.getLogger(__name__)

#: ``WARC-Profile`` of a revisit that records a 304 answer (WARC/1.1 and WARC/1.0 spellings end so).
NOT_MODIFIED_SUFFIX = "/revisit/server-not-modified"
#: Files whose presence marks a spider folder (``<output>/<spider>/``) around a run folder.
SPIDER_FOLDER_MARKERS = ("state.sqlite", "crawl.lock")


def is_not_modified(record: ArchivedRecord) -> bool:
    """A revisit that stands for a 304 answer: the original response is what it means."""
    return (record.profile or "").strip().endswith(NOT_MODIFIED_SUFFIX) or record.status == 304


@dataclass(frozen=True)
class _Pointer:
    source: RecordSource
    offset: int
    run: int


@dataclass
class _Run:
    """The records of one folder (one crawl run, for ours)."""

    folder: Path
    primary: bool
    start: datetime | None = None
    captures: int = 0

    def saw(self, moment: datetime | None) -> None:
        if moment is not None and (self.start is None or moment < self.start):
            self.start = moment


@dataclass
class _Related:
    """Run folders next to the given ones, read only when something is missing."""

    folders: list[Path] = field(default_factory=list)
    loaded: bool = False
    errors: list[ArchiveError] = field(default_factory=list)


def run_of(path: Path) -> Path:
    """The run a file belongs to: the folder holding it (a WACZ's folder for its members)."""
    return path.parent


def sibling_runs(paths: Iterable[Path]) -> list[Path]:
    """The other run folders of the spider folder around each given run folder (resolved)."""
    given = [p for p in paths if p.is_dir()]
    mine = {p.resolve() for p in given}
    found: list[Path] = []
    for folder in given:
        parent = folder.parent
        looks_like_spider_folder = any((parent / m).exists() for m in SPIDER_FOLDER_MARKERS)
        if not looks_like_spider_folder:
            continue
        for candidate in sorted(parent.iterdir()):
            real = candidate.resolve()
            if candidate.is_dir() and real not in mine and real not in found:
                found.append(real)
    return found


class ArchiveIndex:
    """URL → captures of a set of archives; reads payloads on demand and resolves revisits."""

    def __init__(
        self,
        paths: Iterable[str | Path],
        *,
        errors: list[ArchiveError] | None = None,
        visit: Callable[[ArchivedRecord], None] | None = None,
        related: bool = True,
    ) -> None:
        """Index ``paths`` (files, run folders or a spider folder).

        With ``errors``, a malformed file is appended there and its records up to the problem
        are kept, instead of raising; ``visit`` sees every record of ``paths`` with its payload.
        ``related=False`` never looks beyond ``paths``.
        """
        given = [Path(p) for p in paths]
        self.files = archive_files(given)
        self._by_url: dict[str, list[_Pointer]] = defaultdict(list)
        self._by_digest: dict[str, _Pointer] = {}
        self._by_id: dict[str, _Pointer] = {}
        self._by_uri_date: dict[tuple[str, datetime | str], _Pointer] = {}
        self._served: dict[str, int] = defaultdict(int)
        self._runs: list[_Run] = []
        self._run_ids: dict[Path, int] = {}
        self.records = 0
        self.related = _Related(folders=sibling_runs(given) if related else [])
        for path in self.files:
            try:
                self._add_file(path, visit, primary=True)
            except ArchiveError as exc:
                if errors is None:
                    raise
                errors.append(exc)
        self._primary_urls = len(self._by_url)
        starts = [run.start for run in self._runs if run.start is not None]
        #: Earlier runs may answer URLs; "earlier" means before the newest given run began.
        self._cutoff = max(starts) if starts else None

    # -- building ----------------------------------------------------------------------------
    def _run(self, path: Path, primary: bool) -> int:
        folder = run_of(path)
        if folder not in self._run_ids:
            self._run_ids[folder] = len(self._runs)
            self._runs.append(_Run(folder=folder, primary=primary))
        return self._run_ids[folder]

    def _add_file(
        self, path: Path, visit: Callable[[ArchivedRecord], None] | None, primary: bool
    ) -> None:
        run_index = self._run(path, primary)
        run = self._runs[run_index]
        for record in iter_records(path, payloads=visit is not None):
            if primary:
                self.records += 1
            if visit is not None:
                visit(record)
            moment = parse_warc_date(record.date)
            run.saw(moment)
            if record.rec_type not in RESPONSE_TYPES or not record.url:
                continue
            pointer = _Pointer(record.source, record.offset, run_index)
            key = url_key(record.url)
            self._by_url[key].append(pointer)
            run.captures += 1
            if record.rec_type == "response":
                if record.payload_digest:
                    self._by_digest.setdefault(record.payload_digest, pointer)
                if record.record_id:
                    self._by_id[record.record_id.strip()] = pointer
                self._by_uri_date.setdefault((key, moment or (record.date or "")), pointer)

    def _load_related(self) -> bool:
        """Read the sibling run folders once; True when that added anything."""
        if self.related.loaded or not self.related.folders:
            return False
        self.related.loaded = True
        for path in archive_files(self.related.folders):
            try:
                self._add_file(path, None, primary=False)
            except ArchiveError as exc:  # a damaged old run must not stop the replay
                self.related.errors.append(exc)
                logger.warning("Skipping the rest of %s: %s", path, exc)
        logger.info(
            "Read %d sibling run folder(s) for originals and earlier captures: %s",
            len(self.related.folders),
            ", ".join(str(f) for f in self.related.folders),
        )
        return True

    # -- queries -----------------------------------------------------------------------------
    def __len__(self) -> int:
        """URLs captured in the given archives (sibling runs not counted)."""
        return self._primary_urls

    def __contains__(self, url: str) -> bool:
        return bool(self._answering(url_key(url)))

    def urls(self) -> list[str]:
        return list(self._by_url)

    def _answering(self, key: str) -> list[_Pointer]:
        """The captures of the run that answers ``key``: the newest given run holding it, else
        the newest sibling run from before the given runs."""
        best: tuple[bool, datetime] | None = None
        chosen = -1
        for pointer in self._by_url.get(key, ()):
            run = self._runs[pointer.run]
            if not run.primary and (
                self._cutoff is None or run.start is None or run.start > self._cutoff
            ):
                continue
            rank = (run.primary, run.start or datetime.min.replace(tzinfo=UTC))
            if best is None or rank > best:
                best, chosen = rank, pointer.run
        return [p for p in self._by_url.get(key, ()) if p.run == chosen]

    def lookup(self, url: str) -> ArchivedRecord | None:
        """The next capture of ``url`` (revisits resolved), or None when it was never archived."""
        key = url_key(url)
        captures = self._answering(key)
        if not captures and self._load_related():
            captures = self._answering(key)
        if not captures:
            return None
        index = min(self._served[key], len(captures) - 1)
        self._served[key] += 1
        return self.load(captures[index])

    def load(self, pointer: _Pointer) -> ArchivedRecord:
        record = read_record(pointer.source, pointer.offset)
        return self.resolve(record) if record.rec_type == "revisit" else record

    def _original(self, revisit: ArchivedRecord) -> _Pointer | None:
        by_id = self._by_id.get((revisit.refers_to or "").strip())
        if by_id is not None:
            return by_id
        if revisit.refers_to_uri and revisit.refers_to_date:
            when = parse_warc_date(revisit.refers_to_date) or revisit.refers_to_date.strip()
            by_uri = self._by_uri_date.get((url_key(revisit.refers_to_uri.strip()), when))
            if by_uri is not None:
                return by_uri
        return self._by_digest.get(revisit.payload_digest or "")

    def resolve(self, revisit: ArchivedRecord) -> ArchivedRecord:
        """A revisit with the original's payload; ``payload`` None when no original is found
        in the archives given nor in their sibling runs (callers count it; one dangling revisit
        must not make a whole archive unreadable).

        An identical-payload-digest revisit keeps its own HTTP head (what the server sent then);
        a server-not-modified one takes the original's (a 304 means "that response, still").
        """
        original = self._original(revisit)
        if original is None and self._load_related():
            original = self._original(revisit)
        if original is None:
            return replace(revisit, payload=None)
        base = read_record(original.source, original.offset)
        own_head = bool(revisit.headers) and not is_not_modified(revisit)
        return replace(
            revisit,
            status=revisit.status if own_head else base.status,
            protocol=(revisit.protocol if own_head else None) or base.protocol,
            headers=revisit.headers if own_head else base.headers,
            payload=base.payload,
            resolved_from=base.record_id,
        )


def iter_responses(paths: Iterable[str | Path]) -> Iterator[ArchivedRecord]:
    """Every response and revisit record of the archives, revisits resolved, in file order."""
    index = ArchiveIndex(paths)
    for path in index.files:
        for record in iter_records(path, payloads=True):
            if record.rec_type == "response":
                yield record
            elif record.rec_type == "revisit":
                yield index.resolve(record)
