"""Bytes or text in, one lxml tree out: decoded and parsed once, shared by every extraction step.

The tree is what trafilatura's own loader (``trafilatura.load_html``) builds: the same parser
options, the same repairs (invalid XML characters dropped, a self-closing doctype or ``<html/>``
fixed), so trafilatura can be handed the tree instead of the markup. Two things differ, both for
speed and neither changes the tree: the UTF-8 bytes are parsed (trafilatura parses the string,
and the bytes only when that fails) with the invalid characters dropped by ``bytes.translate``
instead of a regular expression over the text, and every element is an ``HtmlElement`` made
without asking Python which class it needs (lxml.html's default lookup calls a Python method for
each element touched, which cost ~5 % of extraction; its special classes for form fields are
never used here). The steps treat the tree as read-only; whatever mutates works on a copy.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

import charset_normalizer
import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, read_bom

#: trafilatura's ``HTML_PARSER`` options, with a lookup that stays in C.
_PARSER = etree.HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
#: trafilatura's ``INVALID_XML_CHARS`` as UTF-8: C0 controls but tab, newline and carriage
#: return (one byte each, never inside a multi-byte sequence), and U+FFFE, U+FFFF.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_NONCHARACTERS = ("\ufffe".encode(), "\uffff".encode())
#: trafilatura's repairs of a doctype libxml2 misreads and of a self-closing ``<html .../>``.
_DOCTYPE_TAG = re.compile(rb"^< ?! ?DOCTYPE[^>]*/[^<>]*>", re.IGNORECASE)
_FAULTY_HTML = re.compile(rb"(<html.*?)\s*/>", re.IGNORECASE)


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
    if utf8_text(body) is None:
        best = charset_normalizer.from_bytes(body).best()
        if best is not None:
            return best.encoding
    return declared


@lru_cache(maxsize=2)
def utf8_text(data: bytes) -> str | None:
    """``data`` decoded as UTF-8, or None when it is not valid UTF-8.

    Cached for the last pages: choosing a page's encoding, :func:`page_markup` and
    :func:`parse` all ask of the same bytes object, and decoding a few hundred kilobytes of
    Cyrillic costs ~0.1 ms each time (the key's hash is the one :func:`parse`'s cache computes
    and keeps on the bytes object anyway).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@lru_cache(maxsize=4)
def parse(html: str | bytes) -> HtmlElement | None:
    """The parsed page, or None when it is empty or not HTML.

    Cached (a few entries): the pipeline calls ``is_article`` and then ``extract`` on the same
    page, and this way it is parsed once. Callers must not modify the returned tree.
    """
    data = _utf8(html)
    if data is None:
        return None
    data = data.translate(None, _CONTROL_BYTES)
    for noncharacter in _NONCHARACTERS:
        if noncharacter in data:
            data = data.replace(noncharacter, b"")
    beginning = data[:50].lower()
    if b"doctype" in beginning:
        first, _, rest = data.partition(b"\n")
        data = _DOCTYPE_TAG.sub(b"", first, count=1) + b"\n" + rest
    for line in data[:4096].splitlines()[:4]:
        if b"<html" in line and line.endswith(b"/>"):
            data = _FAULTY_HTML.sub(rb"\1>", data, count=1)
            break
    try:
        tree = lxml.html.fromstring(data, parser=_PARSER)
    except (etree.LxmlError, ValueError):  # e.g. "Document is empty"
        return None
    # like trafilatura: markup that never says "html" and parses to one element is not a page
    if tree is None or (b"html" not in beginning and len(tree) < 2):
        return None
    return tree


def _utf8(html: str | bytes) -> bytes | None:
    """The page as :func:`decode` reads it, encoded as UTF-8; None when it holds no text.

    Bytes that are UTF-8 already (:func:`_as_utf8`) are used as they are, without decoding and
    encoding a few hundred kilobytes again.
    """
    if isinstance(html, bytes) and (text := _as_utf8(html)) is not None:
        return html if text.strip() else None
    text = decode(html)
    return text.encode("utf-8", "surrogatepass") if text.strip() else None


def _as_utf8(data: bytes) -> str | None:
    """The text of bytes that :func:`decode` reads as UTF-8 (no byte-order mark, no other
    declared charset) and that are valid UTF-8; None for any other bytes."""
    if read_bom(data)[0] is not None or html_body_declared_encoding(data) not in (None, "utf-8"):
        return None
    return utf8_text(data)  # None: decode() puts replacement characters


def page_markup(body: bytes, encoding: str | None) -> str | bytes:
    """``body`` read in ``encoding`` (UTF-8 when None), as :func:`parse` should be given it.

    A UTF-8 body that :func:`parse` would read as UTF-8 anyway (no byte-order mark, no other
    declared charset, valid UTF-8) is passed on as it is: decoding a few hundred kilobytes only
    for :func:`parse` to encode them again costs a quarter of a millisecond a page. Any other
    body is decoded here, so the transport's encoding wins as before.
    """
    try:
        name = codecs.lookup(encoding or "utf-8").name
    except LookupError:
        name = ""  # the decode below says which encoding is unknown
    if name == "utf-8" and _as_utf8(body) is not None:
        return body
    return body.decode(encoding or "utf-8", errors="replace")


def new_element(tag: str) -> HtmlElement:
    """A new element of the kind :func:`parse` makes (for documents built from parts of one)."""
    return _PARSER.makeelement(tag)
