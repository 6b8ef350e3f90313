"""A word-level diff of two texts, as plain text (``[-gone-]{+new+}``) or as marked-up HTML.

Editors of news change a word, a name, a number; a line diff of a paragraph hides that in two
long lines. Words are compared as tokens (whitespace kept with the word before it), so a diff
reads like the text with the edits marked, in the wdiff convention. Scrapy-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from html import escape

_TOKEN = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class Span:
    """A run of text: ``equal``, ``delete`` (only in the old text) or ``insert`` (only new)."""

    kind: str
    text: str


def tokens(text: str) -> list[str]:
    """Words with their trailing whitespace (joined, they give back ``text``)."""
    return _TOKEN.findall(text or "")


def word_diff(old: str, new: str) -> list[Span]:
    """The spans that turn ``old`` into ``new``, word by word (whitespace-only edits ignored)."""
    a, b = tokens(old), tokens(new)
    matcher = SequenceMatcher(None, [t.strip() for t in a], [t.strip() for t in b], autojunk=False)
    spans: list[Span] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spans.append(Span("equal", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            spans.append(Span("delete", "".join(a[i1:i2])))
        if j2 > j1:
            spans.append(Span("insert", "".join(b[j1:j2])))
    return spans


def changed(spans: list[Span]) -> bool:
    return any(span.kind != "equal" for span in spans)


def _split_edge(text: str) -> tuple[str, str]:
    """``text`` without, and its trailing whitespace (kept outside the markers)."""
    body = text.rstrip()
    return body, text[len(body) :]


def render_text(spans: list[Span], context: int = 8) -> str:
    """The diff as text, ``[-deleted-]`` and ``{+inserted+}``; unchanged stretches longer than
    ``context`` words on each side of an edit are cut to ``...`` (0: keep everything)."""
    out: list[str] = []
    for index, span in enumerate(spans):
        if span.kind == "equal":
            words = tokens(span.text)
            if context and len(words) > 2 * context:
                head = "".join(words[:context]) if index > 0 else ""
                tail = "".join(words[-context:]) if index < len(spans) - 1 else ""
                out.append(f"{head}... {tail}" if head or tail else "...")
            else:
                out.append(span.text)
            continue
        body, edge = _split_edge(span.text)
        mark = ("[-", "-]") if span.kind == "delete" else ("{+", "+}")
        out.append(f"{mark[0]}{body}{mark[1]}{edge or ' '}")
    return "".join(out).strip()


def render_html(spans: list[Span]) -> str:
    """The diff as HTML: ``<del>`` and ``<ins>`` around the edits, paragraphs kept."""
    out: list[str] = []
    for index, span in enumerate(spans):
        body, edge = _split_edge(span.text)
        text = escape(body if span.kind != "equal" else span.text)
        if span.kind == "delete":
            # A replaced word: the insertion that follows brings the whitespace after it.
            replaced = index + 1 < len(spans) and spans[index + 1].kind == "insert"
            text = f"<del>{text}</del>{'' if replaced else escape(edge)}"
        elif span.kind == "insert":
            text = f"<ins>{text}</ins>{escape(edge)}"
        out.append(text.replace("\n\n", "</p><p>").replace("\n", "<br>"))
    return "<p>" + "".join(out) + "</p>"
