"""Teasers for other articles inside the body are dropped (``extraction/teasers.py``), through
:func:`newsarchive.extraction.extract`; the page's own prose and headings stay."""

from __future__ import annotations

import trafilatura

from newsarchive.extraction import extract
from newsarchive.extraction.generic import TRAFILATURA_OPTIONS

URL = "https://news.example.org/2024/05/council-budget"

PROSE = [
    "The town council approved next year's budget on Thursday evening after a four-hour "
    "debate, with nine votes in favour and six against.",
    "The largest single item is the renovation of the central library, which has been closed "
    "since a roof leak flooded its reading room in the winter.",
    "Opposition members said the plan leaves too little for road repairs, and proposed moving "
    "money from the events budget, which the majority rejected.",
    "The budget now goes to the regional authority, which has six weeks to raise objections "
    "before it takes effect on the first of January.",
]
HEADING = "What happens to the library"
TEASER = "Library closure leaves students without a place to study"
OTHER = "Road repairs delayed again as contractor goes bankrupt"
PIPE = "Mayor opens the new ferry terminal on the north bank"
VOTE = "How the council members voted"
CARD = (
    "The regional authority rejected two of the last three budgets, citing missing money for "
    "flood defences along the river."
)


def page() -> str:
    p = [f"<p>{text}</p>" for text in PROSE]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Council approves budget</title></head><body>
<nav><a href="/">Home</a></nav>
<article><h1>Council approves budget</h1>
<ul class="toc"><li><a href="#library">{HEADING}</a></li></ul>
{p[0]}
<p>Read more: <a href="/2024/04/library-closure">{TEASER}</a></p>
{p[1]}
<h2 id="library">{HEADING}</h2>
{p[2].replace("road repairs", '<a href="/roads">road repairs</a>')}
<p>ALSO READ: <a href="/2024/03/roads">{OTHER}</a></p>
<p>READ ANOTHER STORY HERE | <a href="/2024/02/ferry">{PIPE}</a></p>
<h2>{VOTE}</h2>
{p[3]}
<a href="/2023/12/budget-rejected"><h3>Regional authority rejects the budget again</h3>
<p><b>HISTORY: </b>{CARD}</p></a>
</article>
<aside><h3>Most read</h3><ul><li><a href="/2024/04/library-closure">{TEASER}</a></li>
<li><a href="/2024/05/council-budget/votes">{VOTE}</a></li></ul></aside>
</body></html>"""


def test_teasers_go_prose_and_headings_stay():
    alone = trafilatura.extract(page(), url=URL, **TRAFILATURA_OPTIONS) or ""
    assert TEASER in alone and OTHER in alone and CARD in alone  # trafilatura keeps them

    text = extract(page(), URL)["text"]

    assert TEASER not in text
    assert OTHER not in text
    assert PIPE not in text  # a label ending in "|"
    assert CARD not in text  # a story card: headline and summary inside a link to another page
    assert "Regional authority rejects" not in text
    paragraphs = text.split("\n\n")
    assert HEADING in paragraphs  # also a table-of-contents link (href="#..."), still a heading
    # A sub-heading the page also links to elsewhere is still printed unlinked: it stays.
    assert VOTE in paragraphs
    assert [p for p in paragraphs if p not in (HEADING, VOTE)] == PROSE  # linked words stay
