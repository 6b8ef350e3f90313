"""The headline as printed where the page marks it up: microdata ``itemprop="headline"``.

A microdata headline element is the publisher's own declaration, and unlike ``og:title`` it may
carry a kicker (``<span class="article-title__overline">``) and a screen-reader separator that are
not part of the headline; those parts are dropped. It is taken only when it shares most of its
words with the declared title. (Preferring any ``<h1>`` over ``og:title`` was measured and
rejected: on the fundus pages it fixed 3 titles and broke 7.)
"""

from __future__ import annotations

import re
from copy import deepcopy

from lxml.html import HtmlElement

from newsarchive.extraction.text import clean_space

_WORD = re.compile(r"\w+")
#: Parts of an ``<h1>`` that are not the headline: kickers, overlines, hidden separators.
_NOT_HEADLINE = re.compile(
    r"overline|kicker|eyebrow|dachzeile|supertitle|topline|roofline|offscreen|sr-only|visually-hidden",
    re.I,
)
#: Share of the shorter title's words the other must contain.
MIN_OVERLAP = 0.6
MIN_SHARED_WORDS = 3


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def headline_text(h1: HtmlElement) -> str:
    """The element's text without kicker, overline and screen-reader parts."""
    if not any(_NOT_HEADLINE.search(el.get("class") or "") for el in h1.iter("*")):
        return clean_space(h1.text_content())
    h1 = deepcopy(h1)
    for element in list(h1.iter("*")):
        if element is not h1 and _NOT_HEADLINE.search(element.get("class") or ""):
            element.drop_tree()
    return clean_space(h1.text_content())


def printed_headline(
    tree: HtmlElement, declared: str | None, candidates: list[HtmlElement] | None = None
) -> str | None:
    """The microdata headline closest to ``declared`` when it is a version of it, else
    ``declared``. ``candidates``: the page's ``itemprop=headline`` elements, when known."""
    if not declared:
        return declared
    wanted = _words(declared)
    best, best_score = None, 0.0
    if candidates is None:
        candidates = tree.xpath("//*[@itemprop='headline'][not(self::meta)]")
    for h1 in candidates:
        text = headline_text(h1)
        words = _words(text)
        shared = len(words & wanted)
        if len(words) < 2 or shared < MIN_SHARED_WORDS:
            continue
        score = shared / min(len(words), len(wanted))
        if score > best_score:
            best, best_score = text, score
    if best is None or best_score < MIN_OVERLAP:
        return declared
    return best
