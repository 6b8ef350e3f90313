"""Legal notices (Russia's "undesirable organization" and "foreign agent" labels) found in the raw
page, wherever the template puts them, so they can be reported and kept out of the article text.

Three ways, tried in this order (the notice's ``source`` says which one found it):

* ``wording``: the known wordings of ``data/notices.json`` (see its ``about``), the fast path. A
  notice is recognised by the sentence combination only the notice has, never by the bare phrase
  "undesirable organization", so articles *reporting* on designations are not flagged.
* ``template`` and ``signals``: any wording that carries the notice's signals (designation and a
  warning to readers, or the foreign-agent label) in a block of the site's learned template
  (:mod:`newsarchive.extraction.template`) or in the notice's usual places
  (:mod:`newsarchive.extraction.notice_signals`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from newsarchive.extraction.notice_signals import (
    SIGNALS,
    TEMPLATE,
    WORDING,
    PageLines,
    find_by_signals,
    load_signals,
)
from newsarchive.extraction.scoring import tokens
from newsarchive.extraction.template import hash_normalized, normalize, strip_blocks
from newsarchive.extraction.text import Line, iter_lines

__all__ = [
    "FOREIGN_AGENT",
    "SIGNALS",
    "TEMPLATE",
    "UNDESIRABLE",
    "WORDING",
    "Notice",
    "find_notices",
    "locate",
    "mentions_designation",
    "normalize",
    "page_lines",
    "remove_notice",
]

UNDESIRABLE = "undesirable-organization"
FOREIGN_AGENT = "foreign-agent"
#: When several kinds are on one page, ``legal_notice`` reports the first of this order.
KIND_PRIORITY = (UNDESIRABLE, FOREIGN_AGENT)

#: ``footer``, ``foot``, ``foot__item``, ``footer__disclaimer``, ``site-footer``, ``c-footer``...
_FOOTERISH = re.compile(r"^(?:[a-z]{1,6}[-_])?foot(?:er)?(?:$|[-_])", re.I)


@dataclass(frozen=True)
class Pattern:
    """One compiled entry of ``notices.json``."""

    kind: str
    language: str
    trigger: re.Pattern[str]
    all_of: tuple[re.Pattern[str], ...]
    tail: tuple[re.Pattern[str], ...]
    reference: str
    shingles: frozenset[tuple[str, ...]]


@dataclass(frozen=True)
class Config:
    patterns: tuple[Pattern, ...]
    window_lines: int
    min_coverage: float


def _shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    toks = tokens(normalize(text))
    return frozenset(tuple(toks[i : i + n]) for i in range(max(0, len(toks) - n + 1)))


@cache
def load_config() -> Config:
    """``data/notices.json``, compiled once on first use (never at import time)."""
    raw: dict[str, Any] = json.loads(
        resources.files("newsarchive.extraction").joinpath("data/notices.json").read_text("utf-8")
    )
    patterns = tuple(
        Pattern(
            kind=entry["kind"],
            language=entry["language"],
            trigger=re.compile(entry["trigger"]),
            all_of=tuple(re.compile(p) for p in entry["all_of"]),
            tail=tuple(re.compile(p) for p in entry.get("tail", [])),
            reference=entry["reference"],
            shingles=_shingles(entry["reference"]),
        )
        for entry in raw["notices"]
    )
    return Config(patterns, int(raw["window_lines"]), float(raw["min_coverage"]))


@dataclass(frozen=True)
class Notice:
    """A notice found on the page; :meth:`as_dict` is the item's ``legal_notice``."""

    kind: str
    text: str
    language: str
    location: str
    source: str = WORDING
    """``wording`` (a known wording), ``template`` (signals in a learned template block) or
    ``signals`` (signals in the notice's usual places)."""

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "text": self.text,
            "language": self.language,
            "location": self.location,
            "source": self.source,
        }


# -- detection ---------------------------------------------------------------------------------


def _window(lines: list[Line], normed: list[str], start: int, pattern: Pattern, size: int):
    """The shortest run of lines from ``start`` holding every ``all_of`` sentence, or None."""
    if not any(p.search(normed[start]) for p in pattern.all_of):
        return None
    for end in range(start, min(start + size, len(lines))):
        joined = " ".join(normed[start : end + 1])
        if all(p.search(joined) for p in pattern.all_of):
            # the window must be mostly notice: an article paragraph quoting the label is not one
            window = _shingles(joined)
            mostly = len(window & pattern.shingles) >= 0.5 * max(1, len(window))
            return end if mostly and len(joined) <= 1.6 * len(pattern.reference) + 100 else None
    return None


def _fuzzy_window(normed: list[str], start: int, pattern: Pattern, size: int, coverage: float):
    """The shortest run of lines from ``start`` covering enough of the reference wording."""
    first = _shingles(normed[start])
    if not first or len(first & pattern.shingles) < 0.5 * len(first):
        return None
    seen: set[tuple[str, ...]] = set()
    for end in range(start, min(start + size, len(normed))):
        line = _shingles(normed[end])
        if end > start and len(line & pattern.shingles) < 0.5 * max(1, len(line)):
            return None
        seen |= line
        if len(seen & pattern.shingles) >= coverage * len(pattern.shingles):
            return end
    return None


def _page_blob(tree: HtmlElement) -> str:
    """The casefolded text of the page but its scripts and styles, for the triggers: a
    superset of what the detectors read (:func:`page_lines`), and a fifth of the whole text on
    pages that carry their state in inline scripts, so the trigger scans are that much shorter.
    """
    return "".join(_TEXTS(tree)).casefold()


_TEXTS = etree.XPath(
    "(//body | self::*[not(//body)])//text()[not(parent::script) and not(parent::style)]",
    smart_strings=False,
)
_META = re.compile(r"[\\()\[\].*+?{}^$]")


@cache
def _triggers() -> tuple[tuple[str, ...], re.Pattern[str]]:
    """Literal stems every trigger starts with, and all triggers in one pattern. A regex of
    many alternatives scans a page slowly; ``in`` on a few stems is C-level and fast."""
    triggers = [p.trigger.pattern for p in load_config().patterns]
    triggers += [e.trigger.pattern for e in load_signals().entries]
    stems = []
    for alternative in (a for t in triggers for a in t.split("|")):
        stem = _META.split(alternative, maxsplit=1)[0]
        if len(stem) < 3:
            raise ValueError(
                f"notices.json: trigger alternative {alternative!r} needs a literal "
                "start of 3 or more characters (the fast pre-check looks for it)"
            )
        stems.append(stem)
    return tuple(sorted(set(stems))), re.compile("|".join(f"(?:{t})" for t in triggers))


def any_trigger(text: str) -> bool:
    """Does ``text`` (casefolded or normalised) hold any wording's or signal's trigger?"""
    stems, pattern = _triggers()
    return any(stem in text for stem in stems) and pattern.search(text) is not None


def mentions_designation(text: str) -> bool:
    """Does this text name a designation (any language's trigger)? Such a block is never
    dropped as mere template: it is a notice, or the article's own sentence."""
    return any_trigger(normalize(text))


def page_lines(tree: HtmlElement) -> list[Line]:
    """The non-empty text lines of the page (its ``<body>``), as every detector sees them."""
    root = tree.find(".//body")
    return [line for line in iter_lines(root if root is not None else tree) if line.text]


def find_notices(
    tree: HtmlElement,
    body: HtmlElement | None = None,
    *,
    template: Collection[str] = (),
    lines: list[Line] | None = None,
) -> list[Notice]:
    """Every notice on the page, in :data:`KIND_PRIORITY` order, then page order.

    ``body`` is the article body container, when known (it decides ``article-body`` vs
    ``after-body``, and which lines are the body's edges). ``template`` holds the block hashes
    of the site's learned template (:mod:`newsarchive.extraction.template`); without it only
    the wordings and the usual places count. ``lines`` are :func:`page_lines`, when the caller
    has them already.
    """
    blob = _page_blob(tree)
    if not any_trigger(blob):
        return []
    config = load_config()
    lines = page_lines(tree) if lines is None else lines
    normed = [normalize(line.text) for line in lines]
    found: list[tuple[int, Notice]] = []
    taken: set[int] = set()
    for pattern in (p for p in config.patterns if p.trigger.search(blob)):
        start = 0
        while start < len(lines):
            if start in taken:
                start += 1
                continue
            end = _window(lines, normed, start, pattern, config.window_lines)
            if end is None:
                end = _fuzzy_window(
                    normed, start, pattern, config.window_lines, config.min_coverage
                )
            if end is None:
                start += 1
                continue
            while end + 1 < len(lines) and any(t.search(normed[end + 1]) for t in pattern.tail):
                end += 1
            span = range(start, end + 1)
            taken.update(span)
            text = "\n\n".join(lines[i].text for i in span)
            location = locate(lines[start].owner, body)
            found.append((start, Notice(pattern.kind, text, pattern.language, location)))
            start = end + 1
    template_lines: set[int] = set()
    if template:
        template_lines = {i for i, n in enumerate(normed) if hash_normalized(n) in template}
    page = PageLines(
        lines,
        normed,
        body,
        template_lines,
        [locate(line.owner, None) == "footer" for line in lines] if body is None else [],
    )
    for hit in find_by_signals(page, taken, blob):
        text = "\n\n".join(lines[i].text for i in range(hit.start, hit.end + 1))
        location = locate(lines[hit.start].owner, body)
        notice = Notice(hit.entry.kind, text, hit.entry.language, location, hit.source)
        found.append((hit.start, notice))
    found.sort(key=lambda item: (KIND_PRIORITY.index(item[1].kind), item[0]))
    return [notice for _, notice in found]


def _ancestors(element: HtmlElement):
    while element is not None:
        yield element
        element = element.getparent()


def locate(element: HtmlElement, body: HtmlElement | None) -> str:
    """``article-body``, ``footer``, ``after-body`` (later in the page than the body) or
    ``elsewhere``."""
    chain = list(_ancestors(element))
    if body is not None and any(e is body for e in chain):
        return "article-body"
    for e in chain:
        if e.tag in ("body", "html"):
            break
        if e.tag == "footer" or e.get("role") == "contentinfo":
            return "footer"
        names = [e.get("id") or "", *(e.get("class") or "").split()]
        if any(_FOOTERISH.match(name) for name in names):
            return "footer"
    if body is not None:
        order = {id(node): i for i, node in enumerate(body.getroottree().getroot().iter())}
        if order.get(id(element), -1) > order.get(id(body), 0):
            return "after-body"
    return "elsewhere"


# -- removal from text -------------------------------------------------------------------------


def remove_notice(text: str, notice: Notice | dict[str, Any] | None) -> str:
    """``text`` without the notice: its paragraphs dropped wherever extraction kept them.

    Long notice paragraphs are also cut out of a text paragraph they were merged into; short ones
    ("To find out more, click here.", "18+") only go when they are all that is left of a line, so
    the same words inside the article stay.
    """
    if not notice or not text:
        return text
    notice_text = notice.text if isinstance(notice, Notice) else notice.get("text", "")
    return strip_blocks(text, (notice_text or "").split("\n\n"))[0]
