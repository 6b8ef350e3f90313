"""Titles: declared titles first, site names cut, a declaration with an appended suffix yields."""

from __future__ import annotations

from newsarchive.extraction import extract
from newsarchive.extraction.titles import choose_title, is_suffixed, strip_site_suffix

BODY = "<p>" + "The council met on Monday and agreed the new budget for the bridge. " * 12 + "</p>"


def page(head: str, h1: str = "") -> str:
    return (
        '<html lang="ko"><head><meta property="og:type" content="article">'
        f'<meta property="og:site_name" content="Daily Paper">{head}</head>'
        f"<body><article>{h1}{BODY}</article></body></html>"
    )


def test_meta_name_headline_is_a_declaration_without_the_suffix():
    html = page(
        '<meta name="headline" content="Budget agreed after long night">'
        '<meta property="og:title" content="Budget agreed after long night-Politicsㅣ Daily Paper">'
    )
    assert extract(html, "https://paper.example/a")["title"] == "Budget agreed after long night"


def test_itemprop_headline_meta_is_not_taken_for_the_page_headline():
    html = page(
        '<meta itemprop="headline" content="A teaser for another story">'
        '<meta property="og:title" content="Budget agreed after long night - Daily Paper">'
    )
    assert extract(html, "https://paper.example/a")["title"] == "Budget agreed after long night"


def test_declaration_that_is_another_plus_a_short_tail_yields():
    assert is_suffixed("Budget agreed-Politicsㅣ Daily Paper", "Budget agreed")
    assert not is_suffixed("Budget agreed for schools", "Budget agreed")
    assert not is_suffixed("Budget agreed", "Budget agreed")
    declared = ["Budget agreed-Politics|Paper", "Budget agreed"]
    assert choose_title(declared, set(), "paper.example") == "Budget agreed"
    # a different declared title is not a suffix variant: priority order decides
    assert choose_title(["SEO title here", "Budget agreed"], set(), None) == "SEO title here"


def test_site_suffix_needs_the_site():
    assert strip_site_suffix("Budget agreed - Daily Paper", {"Daily Paper"}, None) == (
        "Budget agreed"
    )
    assert strip_site_suffix("Budget agreed - Analysis", {"Daily Paper"}, None) == (
        "Budget agreed - Analysis"
    )
