"""Sitemap and sitemap-index parsing, including the Google News block.

Scrapy's own ``Sitemap`` flattens ``<news:news>`` to an empty string; archives want its
publication name, language, date and title, so this parser keeps them. It streams with lxml's
``iterparse`` (bounded memory on 100,000-URL files), never resolves entities or fetches DTDs,
and tells an HTML "not found" page apart from a sitemap.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from newsarchive.discovery.dates import parse_w3c_datetime


class NotASitemap(ValueError):
    """The body is not a sitemap (HTML soft-404, feed, garbage); the message says what it is."""


@dataclass(frozen=True)
class NewsInfo:
    """The Google News block of one ``<url>``."""

    publication: str | None = None
    language: str | None = None
    publication_date: datetime | None = None
    title: str | None = None


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` or ``<sitemap>`` entry."""

    loc: str
    lastmod: datetime | None = None
    news: NewsInfo | None = None


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def sniff_kind(body: bytes) -> str:
    """``sitemapindex``, ``urlset``, or raise :class:`NotASitemap` naming what it looks like."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<sitemapindex" in head:
        return "sitemapindex"
    if b"<urlset" in head:
        return "urlset"
    if b"<html" in head or b"<!doctype html" in head:
        raise NotASitemap("an HTML page, not a sitemap (a soft-404 'not found' page?)")
    if b"<rss" in head or b"<feed" in head:
        raise NotASitemap("an RSS/Atom feed, not a sitemap")
    if not head:
        raise NotASitemap("an empty body")
    raise NotASitemap("neither <urlset> nor <sitemapindex> in the first 4 KB")


def iter_sitemap(body: bytes) -> Iterator[SitemapEntry]:
    """Yield the entries of a sitemap or sitemap index (streaming; entities never expanded)."""
    sniff_kind(body)
    events = etree.iterparse(
        io.BytesIO(body),
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        recover=False,
    )
    try:
        for _event, element in events:
            name = _local(element.tag)
            if name not in ("url", "sitemap"):
                continue
            entry = _entry(element)
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
            if entry is not None:
                yield entry
    except etree.XMLSyntaxError as exc:
        raise NotASitemap(f"malformed XML: {exc}") from exc


def _text(element) -> str | None:
    text = element.text
    if text is None:
        return None
    text = text.strip()
    return text or None


def _entry(element) -> SitemapEntry | None:
    loc = lastmod = None
    news = None
    for child in element:
        name = _local(child.tag)
        if name == "loc":
            loc = _text(child)
        elif name == "lastmod":
            lastmod = parse_w3c_datetime(_text(child))
        elif name == "news":
            news = _news(child)
    if not loc:
        return None
    return SitemapEntry(loc=loc, lastmod=lastmod, news=news)


def _news(element) -> NewsInfo:
    values: dict[str, str | None] = {}
    for child in element.iter():
        name = _local(child.tag)
        if name in ("name", "language", "publication_date", "title"):
            values[name] = child.text.strip() if child.text else None
    # Titles keep their real form except surrounding whitespace (some real ones end in a space).
    return NewsInfo(
        publication=values.get("name"),
        language=values.get("language"),
        publication_date=parse_w3c_datetime(values.get("publication_date")),
        title=values.get("title"),
    )
