"""HTML elements to plain text: lines owned by their innermost block element, then paragraphs.

One walker serves the article body (paragraphs joined by a blank line) and the legal-notice
detector (which matches on the text of each block), so both see the page the same way: inline
markup never splits a sentence, ``<br>`` ends a line and an empty line (``<br>&nbsp;<br>``, the
legacy Pangea paragraph) ends a paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

BLOCK_TAGS = frozenset(
    """address article aside blockquote body center dd details dialog div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol p
    pre section summary table tbody thead tfoot td th tr ul caption legend""".split()  # noqa: SIM905 - a word list reads better than quoted strings
)
#: Never text: code, styling, embedded objects and form widgets.
SKIP_TAGS = frozenset(
    """script style noscript template head title meta link iframe object embed svg canvas video
    audio source track picture img input select option textarea button map area""".split()  # noqa: SIM905 - a word list reads better than quoted strings
)
_NON_WORD = re.compile(r"\W+")
#: Zero-width space and BOM are layout debris; ZWNJ (U+200C) is spelling in Persian and stays.
_INVISIBLE = str.maketrans("", "", "\u200b\ufeff\u2060\u00ad")


def clean_space(text: str | None) -> str:
    """Collapse every whitespace run (``&nbsp;``, newlines, tabs) to one space and trim.

    ``str.split()`` splits on exactly the characters ``\\s`` matches in a text pattern, at a
    quarter of the cost of a regular expression; the few invisible characters are looked for
    before the text is copied without them.
    """
    if not text:
        return ""
    if "\u200b" in text or "\ufeff" in text or "\u2060" in text or "\u00ad" in text:
        text = text.translate(_INVISIBLE)
    return " ".join(text.split())


def squash(text: str) -> str:
    """Casefolded letters and digits only: the form in which texts that differ only in spacing,
    punctuation or case compare equal."""
    return _NON_WORD.sub("", text.casefold())


@dataclass
class Line:
    """A run of text between block boundaries or ``<br>``; ``owner`` is its innermost block."""

    text: str
    owner: HtmlElement
    after_br: bool = False
    """The line was started by a ``<br>`` (it continues the previous line's paragraph)."""


def _tag(element: HtmlElement) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""


def iter_lines(root: HtmlElement, skip: frozenset[str] = SKIP_TAGS) -> Iterator[Line]:
    """Lines of text under ``root`` in document order, empty lines included (they mark breaks).

    Iterative (``etree.iterwalk``), so pathological nesting cannot exhaust the recursion limit.
    """
    buffer: list[str] = []
    owners: list[HtmlElement] = [root]
    after_br = False

    def flush(owner: HtmlElement) -> Line:
        text = clean_space("".join(buffer))
        buffer.clear()
        return Line(text, owner, after_br)

    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, element in walker:
        if event in ("comment", "pi"):
            if element.tail and element is not root:
                buffer.append(element.tail)
            continue
        tag = _tag(element)
        if event == "start":
            if tag in skip:
                walker.skip_subtree()
                continue
            if tag == "br":
                yield flush(owners[-1])
                after_br = True
                continue
            if tag in BLOCK_TAGS and element is not root:
                yield flush(owners[-1])
                after_br = False
                owners.append(element)
            if element.text:
                buffer.append(element.text)
            continue
        # end event
        if tag in BLOCK_TAGS and tag not in skip and element is not root:
            yield flush(owners.pop())
            after_br = False
        if element.tail and element is not root:
            buffer.append(element.tail)
    yield flush(root)


def paragraphs(root: HtmlElement) -> list[str]:
    """Paragraph texts under ``root``: a block or an empty line ends one, a single ``<br>`` is a
    line break inside it."""
    result: list[list[str]] = []
    current: list[str] = []
    current_owner: HtmlElement | None = None
    for line in iter_lines(root):
        if not line.text:
            if current and line.after_br:
                # an empty line between two <br> (or <br>&nbsp;<br>): paragraph break
                result.append(current)
                current, current_owner = [], None
            continue
        if current and line.after_br and line.owner is current_owner:
            current.append(line.text)
            continue
        if current:
            result.append(current)
        current, current_owner = [line.text], line.owner
    if current:
        result.append(current)
    return ["\n".join(lines) for lines in result]


def join_paragraphs(parts: list[str]) -> str:
    """The item's text convention: paragraphs separated by one blank line."""
    return "\n\n".join(part for part in parts if part.strip())
