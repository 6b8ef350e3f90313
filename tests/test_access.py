"""``accessible_for_free``: the publisher's schema.org ``isAccessibleForFree``, as declared."""

from __future__ import annotations

import json
import re

import pytest

from newsarchive.eval.corpora import benchmark_pages, fundus_pages, pangea_pages
from newsarchive.extraction.access import declared_bool
from newsarchive.extraction.extract import extract

URL = "https://news.example.test/2026/11/28/story/"
BODY = (
    "<article><h1>Story</h1>"
    + "<p>"
    + "A sentence of the story, long enough. " * 20
    + "</p></article>"
)


def page(head: str = "", body: str = BODY) -> str:
    return f"<html><head><title>Story</title>{head}</head><body>{body}</body></html>"


def ld(*objects: dict) -> str:
    graph = {"@context": "https://schema.org", "@graph": list(objects)}
    return f'<script type="application/ld+json">{json.dumps(graph)}</script>'


ARTICLE = {"@type": "NewsArticle", "headline": "Story", "datePublished": "2026-11-28T08:00:00Z"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("True", True),
        ("false", False),
        (" FALSE ", False),
        ("https://schema.org/False", False),
        (["true"], True),
        ("maybe", None),
        (None, None),
        (0, None),  # a JSON number is not a schema.org Boolean
    ],
)
def test_declared_bool(value, expected):
    assert declared_bool(value) is expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("", None),
        (ld(ARTICLE), None),
        (ld({**ARTICLE, "isAccessibleForFree": False}), False),
        (ld({**ARTICLE, "isAccessibleForFree": "True"}), True),
        # free overall, one part paywalled: paywalled
        (
            ld(
                {
                    **ARTICLE,
                    "isAccessibleForFree": True,
                    "hasPart": [{"@type": "WebPageElement", "isAccessibleForFree": False}],
                }
            ),
            False,
        ),
        # Yoast's graph: declared on the WebPage, not the article
        (ld(ARTICLE, {"@type": "WebPage", "isAccessibleForFree": "false"}), False),
        # no article object at all, only the page
        (ld({"@type": "WebPage", "name": "Story", "isAccessibleForFree": "true"}), True),
        # two article objects, the first silent
        (ld(ARTICLE, {**ARTICLE, "isAccessibleForFree": "false"}), False),
        # unreadable value: not a declaration
        (ld({**ARTICLE, "isAccessibleForFree": "sometimes"}), None),
        # microdata, with a paywalled hasPart element
        (
            '<meta itemprop="isAccessibleForFree" content="true">'
            '<span itemprop="hasPart" itemscope itemtype="http://schema.org/WebPageElement">'
            '<meta itemprop="isAccessibleForFree" content="False"></span>',
            False,
        ),
        ('<meta itemprop="isAccessibleForFree" content="true">', True),
    ],
)
def test_what_the_page_declares(head, expected):
    assert extract(page(head), URL)["accessible_for_free"] is expected


DECLARED = re.compile(
    rb'"isAccessibleForFree"\s*:\s*"?(true|false)|itemprop="isAccessibleForFree"\s+content="(true|false)"',
    re.IGNORECASE,
)


def test_real_pages_agree_with_their_declarations(corpora):
    """On every corpus page that states one value, the field is that value; silent pages get null.

    The expectation comes from a plain search of the raw bytes, not from the JSON-LD reader.
    """
    seen = {True: 0, False: 0, None: 0}
    for item in [*fundus_pages(corpora), *benchmark_pages(corpora), *pangea_pages(corpora)]:
        values = {(a or b).lower() for a, b in DECLARED.findall(item.html)}
        if len(values) > 1:
            continue  # a page saying both (none in the corpora today) is covered above
        expected = {b"true": True, b"false": False}.get(next(iter(values), None))
        got = extract(item.html, item.url)["accessible_for_free"]
        assert got is expected, item.name
        seen[got] += 1
    assert seen[True] >= 15 and seen[False] >= 15 and seen[None] >= 100, seen
