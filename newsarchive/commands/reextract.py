"""``scrapy reextract``: rebuild the JSONL from archived responses with the current extraction.

The archive is the source of truth: after a trafilatura upgrade or an extraction fix, this turns
the same WARCs (ours or anyone's) into a new ``items.jsonl`` with no network, using every core,
and ``--diff old.jsonl`` says what changed per article. Items are built exactly as the crawl's
pipeline builds them (:func:`newsarchive.pipelines.extract.build_item`), with the discovery hints
the crawl had, read back from the archived sitemaps and feeds
(:mod:`newsarchive.archive.listings`), so ``news`` items on any site get theirs back too. Pages
are extracted as in the crawl, in killable worker processes bounded in time and memory
(:mod:`newsarchive.extraction.bounded`): one hostile page in an archive fails, it does not hang
the rebuild.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.listings import ArchiveContext
from newsarchive.archive.reader import (
    ArchivedRecord,
    ArchiveError,
    archive_files,
    entity_body,
    iter_records,
    not_an_archive,
)
from newsarchive.archive.records import parse_warc_date
from newsarchive.arguments import EXIT_USAGE
from newsarchive.commands.itemdiff import diff_report
from newsarchive.discovery.dates import iso_utc
from newsarchive.discovery.pangea import article_id
from newsarchive.discovery.urlkey import article_key
from newsarchive.extraction import bounded
from newsarchive.extraction.bounded import BoundedExtractor, ExtractionFailed, Outcome
from newsarchive.items import FetchedPage, WarcRef, item_dict
from newsarchive.pipelines.extract import ExtractConfig, build_item
from newsarchive.state.templates import TemplateMemory

HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Pages queued per worker: enough to keep every core busy, few enough to bound memory.
QUEUE_PER_WORKER = 8


@dataclass(frozen=True)
class Job:
    """One archived HTML response to extract."""

    url: str
    status: int
    body: bytes
    content_type: str
    content_encoding: str
    ref: WarcRef
    fetched_at: str
    run_id: str | None
    hints: dict[str, Any] = field(default_factory=dict)
    version: int | None = None
    """The crawl's ``version`` (and ``previous_digest``) of this page's item, from the item it
    archived next to the response; null when the crawl wrote none (or kept no state)."""
    previous_digest: str | None = None


def submit(
    pool: BoundedExtractor, job: Job, template: frozenset[str] | None = None
) -> Future[Outcome]:
    """Queue ``job``'s page as archived: the worker decodes its content and picks its charset
    as the crawl's response did (:mod:`newsarchive.extraction.payload`); a body that cannot be
    decoded is a failed page, like one whose extraction raised. ``template``: the page's site
    template as learned so far."""
    return pool.submit_archived(
        job.body, job.content_encoding, job.content_type, job.url, job.hints, template
    )


def item_of(job: Job, fields: dict[str, Any]) -> dict[str, Any]:
    """The JSONL line the crawl's pipeline would have written for ``job``'s article."""
    page = FetchedPage(
        url=job.url,
        site=urlsplit(job.url).hostname or "",
        body=b"",  # build_item takes provenance only; the fields come from the worker
        encoding="",
        http_status=job.status,
        fetched_at=job.fetched_at,
        article_id=article_id(job.url),
        warc=job.ref,
        hints=dict(job.hints),
    )
    item = build_item(page, fields, job.run_id)
    item = replace(item, version=job.version, previous_digest=job.previous_digest)
    return item_dict(item)


def is_html(record: ArchivedRecord) -> bool:
    kind = (record.header("Content-Type") or "").split(";")[0].strip().lower()
    if kind:
        return kind in HTML_TYPES
    head = (record.payload or b"")[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


# -- the command ---------------------------------------------------------------------------------
@dataclass
class Tally:
    files: int = 0
    records: int = 0
    counts: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    """Archives that could not be read to their end."""
    failures: list[str] = field(default_factory=list)
    """Pages that failed (``<reason>: <url>: <detail>``), counted by reason in ``counts``; the
    crawl's pipeline drops these too."""
    replaced: int = 0
    """Worker processes killed (timeouts) or lost (memory, crashes) and replaced."""


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<WARC/WACZ files or run folders> -O NEW.jsonl [--diff OLD.jsonl]"

    def short_desc(self) -> str:
        return "Rebuild the item JSONL from archived responses with the current extraction"

    def long_desc(self) -> str:
        return (
            "Read every response of the given WARC/ARC/WACZ files or run folders (no network), "
            "extract articles with the current pipeline on every core, write them as JSON lines, "
            "and with --diff print per article what changed against an older JSONL. Each page "
            "gets --timeout seconds and --max-memory bytes in a worker process; a page over "
            "either is counted and listed on stderr, and the run goes on. Exit status 1 when an "
            "archive could not be read to its end (what it held is still used)."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "-O", "--overwrite-output", metavar="FILE", help="write the JSONL here (required)"
        )
        parser.add_argument("--diff", metavar="OLD", help="compare with this older JSONL")
        parser.add_argument(
            "--workers",
            type=int,
            metavar="N",
            help="worker processes (default: NEWSARCHIVE_EXTRACT_WORKERS, unset: every core); "
            "0 extracts in this process with no time or memory bound",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            metavar="SECONDS",
            help="seconds one page may take before its worker is killed and the page fails "
            "(default: NEWSARCHIVE_EXTRACT_TIMEOUT); 0: no bound",
        )
        parser.add_argument(
            "--max-memory",
            type=int,
            metavar="BYTES",
            help="address-space cap of each worker (default: NEWSARCHIVE_EXTRACT_MAX_MEMORY); "
            "0: no cap",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("give at least one WARC, WACZ or run folder")
        if not opts.overwrite_output:
            raise UsageError("-O NEW.jsonl is required")
        try:
            archive_files(args)
        except ArchiveError as exc:
            raise UsageError(str(exc)) from exc
        for arg in args:
            problem = not_an_archive(Path(arg)) if Path(arg).is_file() else None
            if problem:
                print(f"scrapy reextract: {arg}: {problem}; give WARC, ARC or WACZ files or run "
                      "folders", file=sys.stderr)  # fmt: skip
                self.exitcode = EXIT_USAGE
                return
        if opts.diff and not Path(opts.diff).is_file():
            raise UsageError(f"--diff {opts.diff}: no such file")
        config = self._config(opts)
        # Each failed page is listed below; with logging off (LOG_ENABLED), the workers'
        # warnings would reach stderr a second time through Python's last-resort handler.
        logging.getLogger(bounded.__name__).addHandler(logging.NullHandler())
        tally = reextract([Path(a) for a in args], Path(opts.overwrite_output), config)
        print(summary_line(tally, opts.overwrite_output, config))
        for error in tally.errors:
            print(f"  unreadable: {error}", file=sys.stderr)
        for failure in tally.failures:
            print(f"  {failure}", file=sys.stderr)
        if opts.diff:
            print(diff_report(Path(opts.diff), Path(opts.overwrite_output)))
        # Failed pages are counted and listed, not fatal: the crawl drops them too, and a
        # later reextract with a larger --timeout can try them again.
        self.exitcode = 1 if tally.errors else 0

    def _config(self, opts: argparse.Namespace) -> ExtractConfig:
        """The crawl's extraction settings (``-s`` included), overridden by the options."""
        assert self.settings is not None
        config = ExtractConfig.from_settings(self.settings)
        for option, name in (
            ("workers", "--workers"),
            ("timeout", "--timeout"),
            ("max_memory", "--max-memory"),
        ):
            value = getattr(opts, option)
            if value is None:
                continue
            if value < 0:
                raise UsageError(f"{name} {value}: give 0 (no bound) or more")
            config = replace(config, **{option: value})
        return config


def _jobs(paths: list[Path], tally: Tally) -> Iterator[Job]:
    """One job per archived 2xx HTML capture of ``paths``, revisits included once resolved
    (their originals may sit in sibling run folders: :mod:`newsarchive.archive.index`)."""
    context = ArchiveContext()
    errors: list[ArchiveError] = []
    index = ArchiveIndex(paths, errors=errors, visit=context.visit)
    context.read_listings(index)
    files = index.files
    tally.files = len(files)
    tally.records = index.records
    tally.errors.extend(str(e) for e in errors)
    unreadable = {e.source for e in errors}
    for path in files:
        try:
            for record in iter_records(path):
                if record.rec_type not in ("response", "revisit"):
                    continue
                archived_id = record.record_id or ""  # the crawl's item refers to this one
                if record.rec_type == "revisit":
                    record = index.resolve(record)
                    if record.payload is None:
                        tally.counts["skipped: revisit without original"] += 1
                        continue
                if record.status is None or not 200 <= record.status < 300:
                    tally.counts["skipped: not a 2xx HTTP response"] += 1
                    continue
                if not is_html(record):
                    tally.counts["skipped: not HTML"] += 1
                    continue
                key = article_key(record.url or "")
                version, previous = context.versions.get(archived_id, (None, None))
                yield Job(
                    url=record.url or "",
                    status=record.status,
                    body=entity_body(record),
                    content_type=record.header("Content-Type") or "",
                    content_encoding=record.header("Content-Encoding") or "",
                    ref=WarcRef(
                        filename=record.source.filename,
                        offset=record.offset,
                        length=record.length,
                        record_id=record.record_id or "",
                        payload_digest=record.payload_digest or "",
                    ),
                    fetched_at=iso_utc(parse_warc_date(record.date)) or "",
                    run_id=context.run_ids.get(record.source.label),
                    hints=context.hints_for(key),
                    version=version,
                    previous_digest=previous,
                )
        except ArchiveError as exc:
            if exc.source not in unreadable:  # already reported by the index pass
                tally.errors.append(str(exc))


def reextract(paths: list[Path], output: Path, config: ExtractConfig) -> Tally:
    """Extract every archived HTML response of ``paths`` (files, run or spider folders) into
    ``output``, in the archive's order, each page bounded as ``config`` says; return the tally.

    Each site's template is learned as the crawl learns it (``config.template``), from the
    archive's pages in the archive's order, with no state store: the archive is the memory."""
    tally = Tally()
    memory = TemplateMemory(None, config.template) if config.template is not None else None
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    queued = max(1, config.workers) * QUEUE_PER_WORKER
    pending: deque[tuple[Job, Future[Outcome]]] = deque()
    with (
        open(tmp, "w", encoding="utf-8") as out,
        BoundedExtractor(config.workers, config.timeout, config.max_memory, fork=True) as pool,
    ):

        def drain(limit: int) -> None:
            while len(pending) > limit:
                job, future = pending.popleft()
                try:
                    outcome = future.result()
                except ExtractionFailed as exc:
                    tally.counts[exc.reason] += 1
                    tally.failures.append(f"{exc.reason}: {job.url}: {exc.detail}")
                    continue
                if outcome.is_article:
                    fields = dict(outcome.fields)
                    blocks = fields.pop("page_blocks", None)
                    if memory is not None and blocks is not None:
                        site = urlsplit(job.url).hostname or ""
                        aid = fields.get("article_id") or article_id(job.url)
                        key = article_key(job.url, aid)  # as build_item keys it
                        fields["text"] = memory.apply(site, key, blocks, fields["text"])[0]
                    out.write(json.dumps(item_of(job, fields), ensure_ascii=False) + "\n")
                    tally.counts["articles"] += 1
                else:
                    tally.counts["not articles"] += 1

        try:
            for job in _jobs(paths, tally):
                site = urlsplit(job.url).hostname or ""
                template = memory.template(site) if memory is not None else None
                pending.append((job, submit(pool, job, template)))
                drain(queued)
            drain(0)
        except BaseException:
            for _, future in pending:  # interrupted: do not wait for pages nobody will read
                future.cancel()
            raise
        tally.replaced = pool.replaced
    os.replace(tmp, output)
    return tally


def summary_line(tally: Tally, output: str, config: ExtractConfig) -> str:
    counts = ", ".join(f"{n} {what}" for what, n in sorted(tally.counts.items()))
    unreadable = f", {len(tally.errors)} unreadable" if tally.errors else ""
    if config.workers:
        time = f"{config.timeout:g} s" if config.timeout > 0 else "no time limit"
        memory = f"{config.max_memory} bytes" if config.max_memory > 0 else "no memory cap"
        bounds = f"{config.workers} workers, {time} and {memory} per page, "
        bounds += f"{tally.replaced} replaced"
    else:
        bounds = "in process, unbounded"
    return (
        f"reextract: {tally.files} archive file(s){unreadable}, {tally.records} records, "
        f"{bounds}: {counts or 'nothing extracted'} -> {output}"
    )
