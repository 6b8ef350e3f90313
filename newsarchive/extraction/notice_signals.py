"""Legal notices recognised by what they say, in wordings no table knows.

A notice is a block in the notice's usual places (or in the site's learned template) that carries
its designation together with a warning to readers (``signals`` in ``data/notices.json``, whose
``about`` states the rule), or the foreign-agent label. Reporting on a designation does not look
like that: it names the designation but does not address the reader about our content (a lawyer
who does is quoted, and quoted speech is no warning), and it is the article, not a block printed
before or after it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from lxml.html import HtmlElement

from newsarchive.extraction.scoring import tokens
from newsarchive.extraction.text import Line

#: ``Notice.source`` values: which way the notice was recognised.
WORDING = "wording"
TEMPLATE = "template"
SIGNALS = "signals"


@dataclass(frozen=True)
class SignalEntry:
    kind: str
    language: str
    trigger: re.Pattern[str]
    designation: tuple[re.Pattern[str], ...]
    warning: tuple[re.Pattern[str], ...]
    max_tokens: int


@dataclass(frozen=True)
class SignalConfig:
    entries: tuple[SignalEntry, ...]
    window_lines: int
    container_lines: int
    tail_tokens: int


@cache
def load_signals() -> SignalConfig:
    """The ``signals`` part of ``data/notices.json``, compiled once on first use."""
    raw: dict[str, Any] = json.loads(
        resources.files("newsarchive.extraction").joinpath("data/notices.json").read_text("utf-8")
    )["signals"]
    entries = tuple(
        SignalEntry(
            kind=e["kind"],
            language=e["language"],
            trigger=re.compile(e["trigger"]),
            designation=tuple(re.compile(p) for p in e["designation"]),
            warning=tuple(re.compile(p) for p in e["warning"]),
            max_tokens=int(e["max_tokens"]),
        )
        for e in raw["entries"]
    )
    return SignalConfig(
        entries,
        int(raw["window_lines"]),
        int(raw["container_lines"]),
        int(raw["tail_tokens"]),
    )


@dataclass(frozen=True)
class Found:
    """A notice window: lines ``start..end`` (inclusive) of the page, and how it was known."""

    entry: SignalEntry
    start: int
    end: int
    source: str


def _ancestors(element: HtmlElement | None):
    while element is not None:
        yield element
        element = element.getparent()


class PageLines:
    """The page's non-empty lines with what the signals need to know about each."""

    def __init__(
        self,
        lines: list[Line],
        normed: list[str],
        body: HtmlElement | None,
        template_lines: set[int],
        footer: list[bool],
    ) -> None:
        self.lines = lines
        self.normed = normed
        self.body = body
        self.template_lines = template_lines
        self.in_body = [
            body is not None and any(e is body for e in _ancestors(line.owner)) for line in lines
        ]
        self.inside = [i for i, flag in enumerate(self.in_body) if flag]
        self.footer = footer

    def place_ok(self, i: int) -> bool:
        """Can line ``i`` be part of a notice at all (see :meth:`block_ok` for the body)?"""
        if i in self.template_lines or self.body is None:
            return i in self.template_lines or self.footer[i]
        return True

    def block_ok(self, start: int, end: int, taken: set[int]) -> bool:
        """Inside the body, a notice is printed before or after the text: every body line
        before ``start``, or every one after ``end``, is another notice (or there is none)."""
        window = range(start, end + 1)
        if all(i in self.template_lines for i in window) or not self.in_body[start]:
            return True
        before = [i for i in self.inside if i < start]
        after = [i for i in self.inside if i > end]
        return all(i in taken for i in before) or all(i in taken for i in after)


_QUOTED = re.compile(r'"[^"]*"')


def _all(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    return bool(patterns) and all(p.search(text) for p in patterns)


def _warns(entry: SignalEntry, normed: str) -> bool:
    """The warning, outside quoted speech (a lawyer telling "you" of fines is reporting)."""
    return _all(entry.warning, _QUOTED.sub(" ", normed))


def _window(page: PageLines, entry: SignalEntry, start: int, size: int, taken: set[int]):
    """The shortest run of eligible lines from ``start`` holding the designation and (if the
    entry has one) the warning, with ``start`` holding one of them; or None."""
    first = page.normed[start]
    has_designation = _all(entry.designation, first)
    has_warning = _warns(entry, first)
    if not (has_designation or has_warning):
        return None
    budget = 0
    for end in range(start, min(start + size, len(page.lines))):
        if end in taken or not page.place_ok(end):
            return None
        budget += len(tokens(page.normed[end]))
        if budget > entry.max_tokens:
            return None
        has_designation = has_designation or _all(entry.designation, page.normed[end])
        has_warning = has_warning or _warns(entry, page.normed[end])
        if has_designation and (has_warning or not entry.warning):
            return end
    return None


def _container_span(page: PageLines, start: int, end: int, config: SignalConfig):
    """The lines of the smallest element holding the window, when it is a small block of its
    own outside the article body; else None (inside the body, its text's paragraphs and the
    notice's are siblings: only the tail rule applies there)."""
    if page.in_body[start] or page.in_body[end]:
        return None
    owners = [page.lines[i].owner for i in range(start, end + 1)]
    for candidate in _ancestors(owners[0]):
        if candidate.tag in ("body", "html") or candidate is page.body:
            return None
        if page.body is not None and any(e is candidate for e in _ancestors(page.body)):
            return None
        if all(any(e is candidate for e in _ancestors(o)) for o in owners):
            break
    else:
        return None
    inside = [
        i
        for i, line in enumerate(page.lines)
        if any(e is candidate for e in _ancestors(line.owner))
    ]
    if len(inside) > config.container_lines or inside != list(range(inside[0], inside[-1] + 1)):
        return None
    return inside[0], inside[-1]


def _tail(page: PageLines, end: int, config: SignalConfig, taken: set[int]) -> int:
    """Extend a window by its "find out more here" line: short, with a link, right after."""
    nxt = end + 1
    if nxt >= len(page.lines) or nxt in taken or not page.place_ok(nxt):
        return end
    line = page.lines[nxt]
    short = 0 < len(tokens(line.text)) <= config.tail_tokens
    linked = line.owner.tag == "a" or line.owner.find(".//a") is not None
    return nxt if short and linked else end


def find_by_signals(page: PageLines, taken: set[int], blob: str) -> list[Found]:
    """Every notice the signals find among lines not ``taken`` (by the wording path)."""
    config = load_signals()
    found: list[Found] = []
    for entry in config.entries:
        if not entry.trigger.search(blob):
            continue
        start = 0
        while start < len(page.lines):
            if start in taken or not page.place_ok(start):
                start += 1
                continue
            end = _window(page, entry, start, config.window_lines, taken)
            if end is None:
                start += 1
                continue
            span = _container_span(page, start, end, config)
            if span is not None and not taken.intersection(range(span[0], span[1] + 1)):
                start, end = span
            else:
                end = _tail(page, end, config, taken)
            if not page.block_ok(start, end, taken):
                start += 1
                continue
            window = range(start, end + 1)
            source = TEMPLATE if all(i in page.template_lines for i in window) else SIGNALS
            found.append(Found(entry, start, end, source))
            taken.update(window)
            start = end + 1
    return found
