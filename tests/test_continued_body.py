"""A body split into several same-class containers is read to its end
(``newsarchive/extraction/continued.py``), through :func:`newsarchive.extraction.extract`."""

from __future__ import annotations

import trafilatura

from newsarchive.extraction import extract
from newsarchive.extraction.generic import TRAFILATURA_OPTIONS

URL = "https://news.example.org/2024/05/harbour-reopens"

FIRST = [
    "The harbour reopened on Tuesday after six weeks of dredging, the port authority said, and "
    "the first container ship since March tied up at the eastern quay shortly after noon.",
    "Pilots had refused to bring large vessels in while the channel was silted up, and two "
    "shipping lines had moved their weekly calls to the neighbouring port in the meantime.",
    "The authority said the channel now has a depth of fourteen metres at low tide, two more "
    "than before the storms, which should let the larger feeder ships call again.",
]
SECOND = [
    "Dock workers, many of whom had been on reduced hours since the spring, returned to full "
    "shifts this week, their union said in a statement on Wednesday morning.",
    "The mayor called the reopening a relief for the whole town and promised that the council "
    "would press the national government for money to keep the channel dredged every year.",
]
CLAIM = (
    "The harbour will stay closed until next year and the shipping lines will never come back, "
    "a local councillor claimed in a post that was shared thousands of times last month."
)


def page(*, split: bool = True) -> str:
    first = "".join(f"<p>{p}</p>" for p in FIRST)
    second = "".join(f"<p>{p}</p>" for p in SECOND)
    related = (
        '<p><a href="/a">Ferry timetable changes for the summer season</a> '
        '<a href="/b">New bridge opens to traffic</a></p>'
    )
    caption = "<p>The first ship in six weeks.</p>"
    # Each part in its own layout row, an ad row between them: trafilatura keeps the first
    # container its body rules match (the layout of the Wired page of the benchmark).
    body = (
        f'<div class="row"><div class="story-body">{first}</div></div>'
        '<div class="row ad-slot"><p>Advertisement</p></div>'
        f'<div class="row"><div class="story-body">{caption}{second}{related}</div></div>'
        if split
        else f'<div class="row"><div class="story-body">{first}{second}</div></div>'
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harbour reopens after dredging | Example News</title>
<meta property="og:site_name" content="Example News">
<meta property="og:title" content="Harbour reopens after dredging">
</head><body><nav><a href="/">Home</a></nav>
<aside class="claim"><div class="story-body"><p>{CLAIM}</p></div></aside>
<main><h1>Harbour reopens after dredging</h1>
<figure><img src="/ship.jpg"><figcaption>The first ship in six weeks.</figcaption></figure>
{body}</main><footer>Example News. All rights reserved.</footer></body></html>"""


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p]


def test_a_body_split_by_an_ad_is_read_to_its_end():
    # trafilatura alone stops at the ad: the page is a real test of the continuation.
    alone = trafilatura.extract(page(split=True), url=URL, **TRAFILATURA_OPTIONS) or ""
    assert FIRST[0] in alone and SECOND[0] not in alone
    text = extract(page(split=True), URL)["text"]
    assert paragraphs(text) == FIRST + SECOND
    # The same article in one container gives the same text: the split costs nothing.
    assert extract(page(split=False), URL)["text"] == text


def test_only_later_containers_and_only_their_prose_are_taken():
    text = extract(page(split=True), URL)["text"]
    assert CLAIM not in text  # an earlier box of the same class is another part of the page
    assert "Ferry timetable" not in text  # link list
    assert "The first ship in six weeks." not in text  # caption
    assert "Advertisement" not in text
