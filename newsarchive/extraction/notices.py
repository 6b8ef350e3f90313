"""Legal notices (Russia's "undesirable organization" and "foreign agent" labels) found in the raw
page, wherever the template puts them, so they can be reported and kept out of the article text.

The phrase data lives in ``data/notices.json`` (see its ``about``); this module compiles it.
A notice is recognised by the sentence combination only the notice has, never by the bare phrase
"undesirable organization", so articles *reporting* on designations are not flagged.
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
from newsarchive.extraction.text import Line, clean_space, iter_lines

UNDESIRABLE = "undesirable-organization"
FOREIGN_AGENT = "foreign-agent"
#: When several kinds are on one page, ``legal_notice`` reports the first of this order.
KIND_PRIORITY = (UNDESIRABLE, FOREIGN_AGENT)

_DOUBLE_QUOTES = dict.fromkeys(map(ord, '"“”„«»‹›″〝〞＂'), '"')
_SINGLE_QUOTES = dict.fromkeys(map(ord, "'‘’‚‛ʼ`´"), "'")
_SHORT_LINE_TOKENS = 8
#: ``footer``, ``foot``, ``foot__item``, ``footer__disclaimer``, ``site-footer``, ``c-footer``...
_FOOTERISH = re.compile(r"^(?:[a-z]{1,6}[-_])?foot(?:er)?(?:$|[-_])", re.I)


def normalize(text: str) -> str:
    """The matching form of a text: casefolded, quotes unified, ``ё`` → ``е``, spaces collapsed."""
    text = clean_space(text).translate(_DOUBLE_QUOTES).translate(_SINGLE_QUOTES)
    return text.casefold().replace("ё", "е")


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

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "text": self.text,
            "language": self.language,
            "location": self.location,
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


def _candidates(tree: HtmlElement) -> list[Pattern]:
    """Entries whose trigger occurs in the page text at all (cheap, C-level)."""
    body = tree.find(".//body")
    blob = "".join((body if body is not None else tree).itertext()).casefold()
    return [p for p in load_config().patterns if p.trigger.search(blob)]


def find_notices(tree: HtmlElement, body: HtmlElement | None = None) -> list[Notice]:
    """Every notice on the page, in :data:`KIND_PRIORITY` order, then page order.

    ``body`` is the article body container, when known (it decides ``article-body`` vs
    ``after-body``).
    """
    candidates = _candidates(tree)
    if not candidates:
        return []
    config = load_config()
    root = tree.find(".//body")
    lines = [line for line in iter_lines(root if root is not None else tree) if line.text]
    normed = [normalize(line.text) for line in lines]
    found: list[tuple[int, Notice]] = []
    taken: set[int] = set()
    for pattern in candidates:
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


def _flexible(paragraph: str) -> re.Pattern[str] | None:
    """A regex for a notice paragraph that ignores punctuation, quotes, case and line breaks."""
    toks = tokens(paragraph)
    if not toks:
        return None
    body = r"\W*".join(re.escape(t) for t in toks)
    # starts at a line start or after a space (keeps the previous sentence's full stop), takes
    # an opening quote or bracket with it and the closing punctuation after it
    return re.compile(rf"(?:^|(?<=\s))[^\w\s]*{body}[^\w\n]*", re.IGNORECASE)


def remove_notice(text: str, notice: Notice | dict[str, Any] | None) -> str:
    """``text`` without the notice: its paragraphs dropped wherever extraction kept them.

    Long notice paragraphs are also cut out of a text paragraph they were merged into; short ones
    ("To find out more, click here.", "18+") only go when they are all that is left of a line, so
    the same words inside the article stay.
    """
    if not notice or not text:
        return text
    notice_text = notice.text if isinstance(notice, Notice) else notice.get("text", "")
    parts = [p for p in (notice_text or "").split("\n\n") if tokens(p)]
    if not parts:
        return text
    long_parts = [_flexible(p) for p in parts if len(tokens(p)) >= _SHORT_LINE_TOKENS]
    short_parts = [_flexible(p) for p in parts if len(tokens(p)) < _SHORT_LINE_TOKENS]
    kept = []
    for paragraph in text.split("\n\n"):
        lines = []
        for line in paragraph.split("\n"):
            for pattern in long_parts:
                if pattern is not None:
                    line = pattern.sub(" ", line)
            line = re.sub(r" {2,}", " ", line).strip()
            for pattern in short_parts:
                if pattern is not None and pattern.fullmatch(line):
                    line = ""
            if re.search(r"\w", line):
                lines.append(line)
        if lines:
            kept.append("\n".join(lines))
    return "\n\n".join(kept)
