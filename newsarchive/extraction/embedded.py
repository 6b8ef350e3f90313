"""The body of a client-rendered page, from the HTML its scripts carry for the browser.

Pages built with React/Next.js-style frameworks may ship an empty article container and the
article itself as an HTML string inside the page's data (``__NEXT_DATA__``, a state object
pushed to ``window``): ``"contentHtml": "<p class=\\"editor-p\\">...</p>..."``. A browser renders
it; an extractor reading the markup finds nothing (a Hankook Ilbo page of the fundus corpus:
no text from trafilatura, none from newsarchive, before this module).

When the markup gives less than :data:`MIN_WORDS` words, every JSON string literal in the
page's ``<script>`` elements that holds at least two HTML paragraphs is a candidate; the one
with the most text is parsed as an article and goes through the same body extraction as any
page (captions, split bodies, teasers). Nothing is executed, nothing is fetched: only string
literals already in the archived page are read, so a crawl and ``scrapy reextract`` agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from lxml.html import HtmlElement, document_fromstring

#: Fewer words than this from the markup: look for the body in the page's scripts.
MIN_WORDS = 50
#: JSON string literals shorter than this are not an article body.
_MIN_LITERAL = 400
#: Every JSON string literal, each match consuming its closing quote, so a scan stays aligned
#: on literal boundaries and linear in the script's length.
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
_PARAGRAPH = re.compile(r"<p[\s>]", re.I)
_TAG = re.compile(r"<[^>]+>")
#: Scripts longer than this are not searched (a hostile page could ship a huge one).
_MAX_SCRIPT = 5_000_000


def _html_literals(tree: HtmlElement) -> Iterator[str]:
    for script in tree.iter("script"):
        source = script.text or ""
        if not (_MIN_LITERAL < len(source) <= _MAX_SCRIPT):
            continue
        for match in _LITERAL.finditer(source):
            if len(match.group(1)) < _MIN_LITERAL:
                continue
            try:
                value = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            if len(_PARAGRAPH.findall(value)) >= 2:
                yield value


def embedded_article(tree: HtmlElement) -> HtmlElement | None:
    """The page's script-borne article HTML as a document of its own, or ``None``."""
    best = max(_html_literals(tree), key=lambda html: len(_TAG.sub("", html)), default=None)
    if best is None:
        return None
    return document_fromstring(f"<html><body><article>{best}</article></body></html>")
