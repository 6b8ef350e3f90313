"""Screen-reader-only text is not the article's text (``generic.without_hidden``), through
:func:`newsarchive.extraction.extract`."""

from __future__ import annotations

import trafilatura

from newsarchive.extraction import extract
from newsarchive.extraction.generic import TRAFILATURA_OPTIONS

URL = "https://news.example.org/2024/05/tram-line"

PARAGRAPHS = [
    "The new tram line to the airport opened on Monday morning, two years later than planned "
    "and about forty million over its original budget.",
    "The first trams were full within minutes, and the operator said it would add extra "
    "services at the weekend if demand stayed this high.",
    "Residents along the route, who lived with the building site for five years, were offered "
    "a free monthly pass until the end of the year.",
]


NEW_TAB = '<span class="screen-reader-text"> (opens in a new tab)</span>'


def page() -> str:
    p = [f"<p>{text}</p>" for text in PARAGRAPHS]
    p[2] = p[2].replace("monthly pass", f'<a href="/pass">monthly pass{NEW_TAB}</a>')
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Airport tram opens</title></head><body>
<article><h1>Airport tram opens</h1>
{p[0]}
<div class="ad"><span class="sr-only">Advertisement</span></div>
{p[1]}
<h2><span class="visually-hidden">Section:</span> What residents get</h2>
{p[2]}
</article></body></html>"""


def test_screen_reader_only_text_is_left_out():
    alone = trafilatura.extract(page(), url=URL, **TRAFILATURA_OPTIONS) or ""
    assert "opens in a new tab" in alone and "Section:" in alone  # the test is real

    text = extract(page(), URL)["text"]

    assert "Advertisement" not in text
    assert "opens in a new tab" not in text
    assert "Section:" not in text
    assert text.split("\n\n") == [PARAGRAPHS[0], PARAGRAPHS[1], "What residents get", PARAGRAPHS[2]]
