"""``scrapy history <url or article key>``: every archived version of one article, and its edits.

Read from the WARC records, not from the items: each archived 200 of the article (revisits
resolved to their originals) is extracted again as ``reextract`` does, consecutive captures that
say the same are one version, and each removal (404, 410, a redirect to a section page) is an
event of its own; an article that answers again after a removal is a new version, as in the
crawl. Between consecutive versions the title and text are diffed word by word
(:mod:`newsarchive.worddiff`). Deleting ``items.jsonl`` files loses nothing here.
``--html FILE`` writes the same as one self-contained page.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsarchive import default_settings as defaults
from newsarchive.archive.reader import ArchiveError, archive_files, iter_records
from newsarchive.archive.records import parse_warc_date
from newsarchive.commands.reextract import Tally, _jobs, item_of, submit
from newsarchive.discovery.dates import iso_utc
from newsarchive.discovery.removal import removal_reason
from newsarchive.discovery.urlkey import article_key
from newsarchive.extraction import bounded
from newsarchive.extraction.bounded import BoundedExtractor, ExtractionFailed
from newsarchive.state.freshness import item_digest
from newsarchive.state.store import STATE_FILENAME, StateStore
from newsarchive.worddiff import changed, render_html, render_text, word_diff


@dataclass
class Event:
    """One version (``item`` set) or one removal (``reason`` set), where it is archived."""

    fetched_at: str
    url: str
    run_id: str | None
    filename: str
    offset: int
    record_id: str
    item: dict[str, Any] | None = None
    reason: str | None = None
    version: int = 0
    captures: int = 1
    """Captures of this version (re-checks that found it unchanged included)."""


@dataclass
class History:
    key: str
    events: list[Event] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def versions(self) -> list[Event]:
        return [e for e in self.events if e.item is not None]


def keys_of(target: str, folder: Path) -> tuple[str, set[str]]:
    """The article key ``target`` names (a URL or a key) and every key archived under it (the
    aliases the state store learned, when ``folder`` has one)."""
    key = article_key(target) if "://" in target else target
    keys = {key}
    state = folder / STATE_FILENAME
    if state.is_file():
        store = StateStore(state)
        try:
            key = store.resolve(key)
            keys |= {key, *store.aliases_of(key)}
        finally:
            store.close()
    return key, keys


def _removals(paths: list[Path], keys: set[str], history: History) -> list[Event]:
    events = []
    for path in archive_files(paths):
        try:
            for record in iter_records(path, payloads=False):
                if record.rec_type not in ("response", "revisit") or not record.url:
                    continue
                if record.status is None:
                    continue
                if article_key(record.url) not in keys:
                    continue
                final = record.url
                if 300 <= record.status < 400:
                    final = urljoin(record.url, record.header("Location") or "")
                status = 200 if 300 <= record.status < 400 else record.status
                reason = removal_reason(status, record.url, final)
                if reason is None:
                    continue
                events.append(
                    Event(
                        fetched_at=iso_utc(parse_warc_date(record.date)) or "",
                        url=record.url,
                        run_id=path.parent.name,  # the run folder
                        filename=record.source.filename,
                        offset=record.offset,
                        record_id=record.record_id or "",
                        reason=reason,
                    )
                )
        except ArchiveError as exc:
            history.errors.append(str(exc))
    return events


def read_history(target: str, folder: Path) -> History:
    """Every version and removal of the article ``target`` archived under ``folder``."""
    key, keys = keys_of(target, folder)
    history = History(key=key)
    tally = Tally()
    captures: list[Event] = []
    with BoundedExtractor(0, 0, 0) as pool:
        for job in _jobs([folder], tally):
            if article_key(job.url) not in keys:
                continue
            try:
                outcome = submit(pool, job).result()
            except ExtractionFailed as exc:
                history.errors.append(f"{job.url}: {exc.detail}")
                continue
            if not outcome.is_article:
                continue
            captures.append(
                Event(
                    fetched_at=job.fetched_at,
                    url=job.url,
                    run_id=job.run_id,
                    filename=job.ref.filename,
                    offset=job.ref.offset,
                    record_id=job.ref.record_id,
                    item=item_of(job, outcome.fields),
                )
            )
    history.errors.extend(tally.errors)
    events = sorted(
        captures + _removals([folder], keys, history),
        key=lambda e: (e.fetched_at, e.item is None),
    )
    last_digest: str | None = None
    version = 0
    gone = False
    for event in events:
        if event.item is None:
            if not gone and version:
                history.events.append(event)
            gone = True
            continue
        digest = item_digest(event.item)
        if digest == last_digest and not gone:
            history.events[-1].captures += 1
            continue
        version += 1
        event.version = version
        history.events.append(event)
        last_digest, gone = digest, False
    return history


def _where(event: Event) -> str:
    run = f"{event.run_id}/" if event.run_id else ""
    return f"{run}{event.filename}@{event.offset} {event.record_id}"


def _pairs(history: History):
    """(older, newer, events in between) for each pair of consecutive versions."""
    previous: Event | None = None
    for event in history.versions:
        if previous is not None:
            yield previous, event
        previous = event


def render_history_text(history: History, context: int) -> str:
    versions = history.versions
    removals = [e for e in history.events if e.reason]
    lines = [f"article {history.key}: {len(versions)} version(s), {len(removals)} removal(s)"]
    for event in history.events:
        if event.item is not None:
            seen = f"  ({event.captures} captures)" if event.captures > 1 else ""
            lines.append(f"  v{event.version}  {event.fetched_at}  {_where(event)}{seen}")
        else:
            lines.append(f"  removed ({event.reason})  {event.fetched_at}  {_where(event)}")
    for old, new in _pairs(history):
        assert old.item is not None and new.item is not None
        lines.append("")
        lines.append(f"--- v{old.version} -> v{new.version} ({new.fetched_at})")
        for name in ("title", "text"):
            spans = word_diff(old.item.get(name) or "", new.item.get(name) or "")
            if changed(spans):
                lines.append(f"{name}: {render_text(spans, context)}")
            else:
                lines.append(f"{name}: unchanged")
    return "\n".join(lines)


def render_history_html(history: History) -> str:
    rows = []
    for event in history.events:
        what = f"v{event.version}" if event.item is not None else f"removed ({event.reason})"
        rows.append(
            f"<tr><td>{escape(what)}</td><td>{escape(event.fetched_at)}</td>"
            f"<td><code>{escape(_where(event))}</code></td></tr>"
        )
    parts = []
    for old, new in _pairs(history):
        assert old.item is not None and new.item is not None
        parts.append(f"<h2>v{old.version} &rarr; v{new.version} ({escape(new.fetched_at)})</h2>")
        for name in ("title", "text"):
            spans = word_diff(old.item.get(name) or "", new.item.get(name) or "")
            body = render_html(spans) if changed(spans) else "<p><em>unchanged</em></p>"
            parts.append(f'<h3>{name}</h3><div class="{name}">{body}</div>')
    title = escape(f"History of article {history.key}")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        # Self-contained: nothing to fetch, and the page may fetch nothing (archived text).
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{title}</title><style>"
        "body{font-family:serif;max-width:50em;margin:2em auto;line-height:1.5}"
        "del{background:#fdd;color:#900}ins{background:#dfd;color:#060;text-decoration:none}"
        "td{padding:0 1em 0 0}code{font-size:85%}"
        f"</style></head><body><h1>{title}</h1><table>{''.join(rows)}</table>"
        f"{''.join(parts)}</body></html>\n"
    )


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<url or article key> [--output-dir output/rferl] [--html FILE]"

    def short_desc(self) -> str:
        return "Print every archived version of an article and what changed between them"

    def long_desc(self) -> str:
        return (
            "Read the WARCs of a spider's output folder (every run; no items needed), extract "
            "each archived capture of the article, and print its versions (version, fetch time, "
            "WARC record), its removals, and a word-level diff of title and text between "
            "consecutive versions ([-deleted-] {+inserted+}). --html writes the same as one "
            "self-contained page."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--output-dir",
            metavar="DIR",
            help="the spider's output folder (default: <NEWSARCHIVE_OUTPUT>/rferl)",
        )
        parser.add_argument("--html", metavar="FILE", help="also write the history as HTML")
        parser.add_argument(
            "--context",
            type=int,
            default=8,
            metavar="N",
            help="unchanged words kept on each side of an edit (0: the whole text)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one article URL or article key")
        assert self.settings is not None
        output = self.settings.get("NEWSARCHIVE_OUTPUT", defaults.NEWSARCHIVE_OUTPUT)
        folder = Path(opts.output_dir or Path(output) / "rferl")
        if not folder.is_dir():
            raise UsageError(f"--output-dir {folder}: no such folder (a spider's output folder)")
        logging.getLogger(bounded.__name__).addHandler(logging.NullHandler())
        history = read_history(args[0], folder)
        if not history.events:
            raise UsageError(f"{args[0]}: no archived capture of this article under {folder}")
        print(render_history_text(history, opts.context))
        for error in history.errors:
            print(f"  unreadable: {error}", flush=True)
        if opts.html:
            Path(opts.html).write_text(render_history_html(history), "utf-8")
        self.exitcode = 1 if history.errors else 0
