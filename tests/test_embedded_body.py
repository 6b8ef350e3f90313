"""A client-rendered page's body comes from the HTML string its scripts carry
(``newsarchive/extraction/embedded.py``), through :func:`newsarchive.extraction.extract`."""

from __future__ import annotations

import json

from newsarchive.extraction import extract

URL = "https://news.example.org/politics/2026/01/29/party-expels-former-leader"

PARAGRAPHS = [
    "The party's disciplinary committee expelled its former leader on Thursday night, ending "
    "a feud that had split its parliamentary group for most of the past year.",
    "The current leader now has four months to steady the party before the local elections, "
    "which polls suggest it will lose in most of the large cities.",
    "Members of the expelled leader's camp said they would challenge the decision in court and "
    "accused the committee of ignoring the party's own rules on hearings.",
]


def client_rendered_page(paragraphs: list[str]) -> str:
    body = "".join(f'<p class="editor-p">{p}</p>' for p in paragraphs)
    content = (
        '<div class="editor-img-box"><img src="/photo.jpg"><div class="caption">'
        "<p>The leader salutes the flag at a party meeting.</p></div></div>" + body
    )
    data = {
        "props": {"pageProps": {"article": {"title": "Party expels former leader",
                                            "contentHtml": content}}},
        "page": "/[section]/[id]",
    }  # fmt: skip
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Party expels former leader</title>
<meta property="og:type" content="article">
<meta property="og:title" content="Party expels former leader"></head>
<body><div id="__next"><header><a href="/">Home</a></header>
<main><h1>Party expels former leader</h1><div class="article-body"></div></main></div>
<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>
<script>window.analytics = {{"id": "UA-1", "note": "{"x" * 500}"}};</script>
</body></html>"""


def test_the_body_of_a_client_rendered_page_comes_from_its_script_data():
    item = extract(client_rendered_page(PARAGRAPHS), URL)
    assert item["text"].split("\n\n") == PARAGRAPHS  # caption dropped, order kept


def test_a_page_whose_markup_has_the_article_is_read_from_the_markup():
    markup = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    page = client_rendered_page(["A different text in the data that must not win. " * 10])
    page = page.replace(
        '<div class="article-body"></div>', f'<div class="article-body">{markup}</div>'
    )
    assert extract(page, URL)["text"].split("\n\n") == PARAGRAPHS
