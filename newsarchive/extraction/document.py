"""Bytes or text in, one lxml tree out: decoded and parsed once, shared by every extraction step.

The tree is parsed with trafilatura's own loader so trafilatura sees exactly the document it would
have built itself (same parser options, same repairs), and it can be handed the tree instead of
the markup. The steps treat the tree as read-only; whatever mutates works on a copy.
"""

from __future__ import annotations

from functools import lru_cache

import charset_normalizer
from lxml.html import HtmlElement
from trafilatura import load_html
from w3lib.encoding import html_to_unicode


def decode(html: str | bytes) -> str:
    """Text of a page: the BOM, then ``<meta charset>``, then UTF-8 with replacement characters."""
    if isinstance(html, str):
        return html
    _encoding, text = html_to_unicode(None, html, default_encoding="utf-8")
    return text


def real_encoding(body: bytes, declared: str) -> str:
    """The page's real encoding: a declared UTF-8 that does not decode is detected instead.

    Servers label windows-1251 or other legacy bytes as UTF-8; trusting the label would decode
    with replacement characters and lose the text. The crawl and ``scrapy reextract`` both use
    this, so they read the same page the same way.
    """
    if declared.replace("-", "").replace("_", "").lower() != "utf8":
        return declared
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(body).best()
        if best is not None:
            return best.encoding
    return declared


@lru_cache(maxsize=4)
def parse(html: str | bytes) -> HtmlElement | None:
    """The parsed page, or None when it is empty or not HTML.

    Cached (a few entries): the pipeline calls ``is_article`` and then ``extract`` on the same
    page, and this way it is parsed once. Callers must not modify the returned tree.
    """
    text = decode(html)
    if not text.strip():
        return None
    return load_html(text)
