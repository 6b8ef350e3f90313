"""``scrapy reextract``: rebuild the JSONL from archived responses with the current extraction.

The archive is the source of truth: after a trafilatura upgrade or an extraction fix, this turns
the same WARCs (ours or anyone's) into a new ``items.jsonl`` with no network, using every core,
and ``--diff old.jsonl`` says what changed per article. Items are built exactly as the crawl's
pipeline builds them (:func:`newsarchive.pipelines.extract.build_item`), with the discovery hints
the crawl had, read back from the archived sitemaps and feeds and matched by article key
(:mod:`newsarchive.discovery.urlkey`), so ``news`` items on any site get theirs back too.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import zlib
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from itemadapter import ItemAdapter
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from w3lib.encoding import html_to_unicode

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.reader import (
    ArchivedRecord,
    ArchiveError,
    RecordSource,
    archive_files,
    entity_body,
    iter_records,
    read_record,
)
from newsarchive.discovery.dates import iso_utc
from newsarchive.discovery.feeds import NotAFeed, iter_feed
from newsarchive.discovery.pangea import article_id
from newsarchive.discovery.sitemaps import NotASitemap, SitemapEntry, iter_sitemap
from newsarchive.discovery.urlkey import article_key
from newsarchive.downloadermiddlewares.replay import warc_moment
from newsarchive.extraction import extract, is_article
from newsarchive.items import FetchedPage, WarcRef
from newsarchive.pipelines.extract import build_item

#: Fields that describe the fetch or the run's cross-run state (item versions, which a WARC
#: does not hold), not the extraction: not compared by ``--diff``.
NOT_COMPARED = frozenset(
    {"fetched_at", "warc", "run_id", "extractor", "version", "previous_digest"}
)
HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Jobs queued per worker: enough to keep every core busy, few enough to bound memory.
QUEUE_PER_WORKER = 8


@dataclass(frozen=True)
class Job:
    """One archived HTML response to extract (picklable: sent to a worker process)."""

    order: int
    url: str
    status: int
    body: bytes
    content_type: str
    content_encoding: str
    ref: WarcRef
    fetched_at: str
    run_id: str | None
    hints: dict[str, Any] = field(default_factory=dict)


def decode_content(body: bytes, encoding: str) -> bytes:
    """Undo ``Content-Encoding`` like HttpCompressionMiddleware does (gzip, deflate, br)."""
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            # Some archivers store the decoded body yet keep the header: take it as it is.
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding == "br":
            import brotli  # Scrapy's own optional dependency for br

            body = brotli.decompress(body)
        elif coding != "identity":
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
    return body


def _auto_detect(body: bytes) -> str | None:
    """What Scrapy's TextResponse tries when nothing declares an encoding."""
    for enc in ("utf-8", "cp1252"):
        try:
            body.decode(enc)
        except UnicodeError:
            continue
        return enc
    return None


def extract_job(job: Job) -> tuple[int, str, Any]:
    """Worker: ``("item", dict)``, ``("not_article", reason)`` or ``("failed", message)``."""
    try:
        body = decode_content(job.body, job.content_encoding)
    except (OSError, ValueError, zlib.error, EOFError) as exc:
        return job.order, "failed", f"{job.url}: cannot decode body: {exc}"
    encoding, _ = html_to_unicode(job.content_type or None, body, auto_detect_fun=_auto_detect)
    html = body.decode(encoding or "utf-8", errors="replace")
    ok, reason = is_article(html, job.url)
    if not ok:
        return job.order, "not_article", reason
    page = FetchedPage(
        url=job.url,
        site=urlsplit(job.url).hostname or "",
        body=body,
        encoding=encoding,
        http_status=job.status,
        fetched_at=job.fetched_at,
        article_id=article_id(job.url),
        warc=job.ref,
        hints=dict(job.hints),
    )
    try:
        fields = extract(html, job.url, hints=page.hints)
    except Exception as exc:  # the pipeline counts and drops these too; one page must not stop us
        return job.order, "failed", f"{job.url}: extraction failed: {exc!r}"
    return job.order, "item", ItemAdapter(build_item(page, fields, job.run_id)).asdict()


# -- discovery context, read back from the archive ----------------------------------------------
class ArchiveContext:
    """What the crawl knew besides the page: sitemap and feed hints per article key, and the
    run id."""

    def __init__(self) -> None:
        self.hints: dict[str, dict[str, Any]] = {}
        self.run_ids: dict[str, str] = {}
        self._listings: list[tuple[RecordSource, int]] = []

    def visit(self, record: ArchivedRecord) -> None:
        if record.rec_type == "warcinfo" and record.payload:
            for line in record.payload.decode("utf-8", "replace").splitlines():
                name, _, value = line.partition(":")
                if name.strip() == "isPartOf" and value.strip():
                    self.run_ids[record.source.label] = value.strip()
        elif record.url and (
            record.rec_type == "revisit"
            or (record.rec_type == "response" and _looks_like_listing(record))
        ):
            # Read once the index can resolve revisits (a scheduled run's sitemaps are all
            # revisits); in file order, so "first source wins" as in the crawl.
            self._listings.append((record.source, record.offset))

    def read_listings(self, index: ArchiveIndex) -> None:
        """Take the hints of every archived sitemap and feed seen by :meth:`visit`."""
        for source, offset in self._listings:
            try:
                record = read_record(source, offset)
            except ArchiveError:
                continue  # reported by the pass that found the record
            if record.rec_type == "revisit":
                record = index.resolve(record)
            if record.payload is not None and _looks_like_listing(record):
                self._read_listing(record)
        self._listings.clear()

    def _read_listing(self, record: ArchivedRecord) -> None:
        """A sitemap, else a feed (RSS, Atom, JSON Feed), else nothing."""
        try:
            body = decode_content(entity_body(record), record.header("Content-Encoding") or "")
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
        except (OSError, ValueError, zlib.error, EOFError):
            return
        try:
            entries = list(iter_sitemap(body))
        except (NotASitemap, ValueError):
            try:
                entries = [
                    SitemapEntry(loc=urljoin(record.url or "", e.link), lastmod=e.published)
                    for e in iter_feed(body)
                ]
            except (NotAFeed, ValueError):
                return
        for entry in entries:
            key = article_key(entry.loc)
            # Same merge as the spiders: first source wins, news fields merged, lastmod kept.
            hints = self.hints.setdefault(key, {"discovered_from": record.url})
            news = entry.news
            if news is not None:
                hints.update(
                    {
                        k: v
                        for k, v in {
                            "news_title": news.title,
                            "news_language": news.language,
                            "news_publication_date": iso_utc(news.publication_date),
                            "publication": news.publication,
                        }.items()
                        if v
                    }
                )
            if entry.lastmod is not None:
                hints.setdefault("lastmod", iso_utc(entry.lastmod))


def _looks_like_listing(record: ArchivedRecord) -> bool:
    if record.status != 200:
        return False
    path = urlsplit(record.url or "").path.lower()
    kind = (record.header("Content-Type") or "").lower()
    return (
        path.endswith((".xml", ".xml.gz", ".json"))
        or ("xml" in kind and "html" not in kind)
        or "json" in kind
    )


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
    """Pages the extraction failed on (counted; the pipeline drops these too)."""


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
            "and with --diff print per article what changed against an older JSONL. Exit status "
            "1 when an archive could not be read to its end (what it held is still used)."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "-O", "--overwrite-output", metavar="FILE", help="write the JSONL here (required)"
        )
        parser.add_argument("--diff", metavar="OLD", help="compare with this older JSONL")
        parser.add_argument(
            "--workers", type=int, default=0, help="worker processes (default: every core)"
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
        if opts.diff and not Path(opts.diff).is_file():
            raise UsageError(f"--diff {opts.diff}: no such file")
        workers = opts.workers or os.cpu_count() or 1
        tally = reextract([Path(a) for a in args], Path(opts.overwrite_output), workers)
        print(summary_line(tally, opts.overwrite_output, workers))
        for error in tally.errors:
            print(f"  unreadable: {error}", file=sys.stderr)
        for failure in tally.failures:
            print(f"  failed: {failure}", file=sys.stderr)
        if opts.diff:
            print(diff_report(Path(opts.diff), Path(opts.overwrite_output)))
        self.exitcode = 1 if tally.errors else 0


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
    order = 0
    for path in files:
        try:
            for record in iter_records(path):
                if record.rec_type not in ("response", "revisit"):
                    continue
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
                order += 1
                yield Job(
                    order=order,
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
                    fetched_at=iso_utc(warc_moment(record.date)) or "",
                    run_id=context.run_ids.get(record.source.label),
                    hints=context.hints.get(key, {}),
                )
        except ArchiveError as exc:
            if exc.source not in unreadable:  # already reported by the index pass
                tally.errors.append(str(exc))


def reextract(paths: list[Path], output: Path, workers: int) -> Tally:
    """Extract every archived HTML response of ``paths`` (files, run or spider folders) into
    ``output``; return the tally."""
    tally = Tally()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    pending: deque[Future] = deque()
    with open(tmp, "w", encoding="utf-8") as out, ProcessPoolExecutor(workers) as pool:

        def drain(limit: int) -> None:
            while len(pending) > limit:
                _, kind, value = pending.popleft().result()
                if kind == "item":
                    out.write(json.dumps(value, ensure_ascii=False) + "\n")
                    tally.counts["articles"] += 1
                elif kind == "not_article":
                    tally.counts["not articles"] += 1
                else:
                    tally.counts["extraction failed"] += 1
                    tally.failures.append(str(value))

        for job in _jobs(paths, tally):
            pending.append(pool.submit(extract_job, job))
            drain(workers * QUEUE_PER_WORKER)
        drain(0)
    os.replace(tmp, output)
    return tally


def summary_line(tally: Tally, output: str, workers: int) -> str:
    counts = ", ".join(f"{n} {what}" for what, n in sorted(tally.counts.items()))
    unreadable = f", {len(tally.errors)} unreadable" if tally.errors else ""
    return (
        f"reextract: {tally.files} archive file(s){unreadable}, {tally.records} records, "
        f"{workers} workers: {counts or 'nothing extracted'} -> {output}"
    )


# -- diff --------------------------------------------------------------------------------------
def _load(path: Path) -> dict[str, dict]:
    items: dict[str, dict] = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            key = item.get("article_key") or item.get("article_id")
            items[str(key or article_key(item.get("url") or ""))] = item
    return items


def _short(value: Any, width: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def diff_report(old_path: Path, new_path: Path) -> str:
    """Per article, the fields that changed (short before → after), then a summary count."""
    old, new = _load(old_path), _load(new_path)
    lines: list[str] = []
    changed = unchanged = 0
    for key, item in new.items():
        before = old.get(key)
        if before is None:
            continue
        fields = sorted(
            name
            for name in set(item) | set(before)
            if name not in NOT_COMPARED and item.get(name) != before.get(name)
        )
        if not fields:
            unchanged += 1
            continue
        changed += 1
        lines.append(f"changed {item.get('url')} ({len(fields)} field(s))")
        lines.extend(
            f"  {name}: {_short(before.get(name))} -> {_short(item.get(name))}" for name in fields
        )
    only_new = [k for k in new if k not in old]
    only_old = [k for k in old if k not in new]
    lines.extend(f"only in new: {new[k].get('url')}" for k in only_new)
    lines.extend(f"only in old: {old[k].get('url')}" for k in only_old)
    extractors = {
        json.dumps(i.get("extractor"), sort_keys=True) for i in (*old.values(), *new.values())
    }
    if len(extractors) > 1:
        lines.append("extractors: " + " vs ".join(sorted(extractors)))
    lines.append(
        f"diff {old_path} -> {new_path}: {changed} changed, {unchanged} unchanged, "
        f"{len(only_new)} only in new, {len(only_old)} only in old"
    )
    return "\n".join(lines)
