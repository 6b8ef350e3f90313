"""Text on the page that is not the article's: screen-reader-only elements
(``generic._hidden_dropped``) and picture or source credit lines (``generic._is_credit``), through
:func:`newsarchive.extraction.extract`."""

from __future__ import annotations

import trafilatura
from lxml import etree

from newsarchive.extraction import extract
from newsarchive.extraction.document import parse
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


def test_credit_lines_are_left_out_but_sentences_with_a_colon_stay():
    credits = ["Photo: AFP", "Image: Jane Doe / City Archive", "SOURCE: News agencies"]
    quote = "Source: a council member who asked not to be named, speaking after the vote."
    body = "".join(f"<p>{p}</p>" for p in [PARAGRAPHS[0], credits[0], PARAGRAPHS[1], credits[1]])
    body += f"<p>{PARAGRAPHS[2]}</p><p>{quote}</p><p>{credits[2]}</p>"
    html = f"<html><head><title>Airport tram opens</title></head><body><article>{body}</article>"
    alone = trafilatura.extract(html, url=URL, **TRAFILATURA_OPTIONS) or ""
    assert all(credit in alone for credit in credits)  # the test is real

    text = extract(html, URL)["text"]

    assert text.split("\n\n") == [*PARAGRAPHS, quote]  # a long "Source: ..." sentence stays


def test_a_printed_headline_other_than_the_title_does_not_open_the_text():
    """The item keeps the declared title; the page prints another headline first, which
    trafilatura returns as the first paragraph: it is a headline, not text."""
    declared = "Airport tram opens two years late"
    printed = "Trams to the airport at last"
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = (
        f'<html><head><title>{declared}</title><meta property="og:title" content="{declared}">'
        f"</head><body><article><h1>{printed}</h1>{body}</article></body></html>"
    )
    alone = trafilatura.extract(html, url=URL, **TRAFILATURA_OPTIONS) or ""
    assert alone.startswith(printed)  # the test is real

    item = extract(html, URL)

    assert item["title"] == declared
    assert item["text"].split("\n\n") == PARAGRAPHS


def test_the_shared_tree_is_left_exactly_as_parsed():
    # hidden elements first in their parent, after a sibling, nested, adjacent, with tails
    html = page().replace(
        "<h1>Airport tram opens</h1>",
        '<h1><span class="sr-only">Headline:</span>Airport tram opens</h1>'
        '<p>Lead <b>bold</b><i class="sr-only">x<span class="sr-only">y</span></i> tail one'
        '<span class="sr-only">a</span><span class="sr-only">b</span> tail two</p>',
    )
    tree = parse(html)
    before = etree.tostring(tree)

    text = extract(html, URL)["text"]

    assert parse(html) is tree  # the cached tree every later step reads
    assert etree.tostring(tree) == before
    assert "Lead bold tail one tail two" in text
    assert "Headline:" not in text
