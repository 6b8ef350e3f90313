"""RSS 2.0 / RSS 1.0 / Atom / JSON Feed item links for discovery (no entity expansion, no network).

Atom entries often carry several links (``alternate``, ``replies``, ``enclosure``, ``edit``): the
article is the ``alternate`` one (or the one without ``rel``). An RSS item without ``<link>`` may
still name its URL in a permalink ``<guid>``. JSON Feed (https://jsonfeed.org, versions 1 and 1.1)
gives ``url`` (or ``external_url``) and ``date_published``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

from newsarchive.discovery.dates import parse_w3c_datetime

#: Atom link relations that never point at the article itself.
_NOT_ARTICLE_RELS = frozenset({"self", "replies", "enclosure", "edit", "related", "via", "license"})


class NotAFeed(ValueError):
    """The body is not an RSS, Atom or JSON feed."""


@dataclass(frozen=True)
class FeedEntry:
    link: str
    title: str | None = None
    published: datetime | None = None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = parse_w3c_datetime(text)
    if parsed is not None:
        return parsed
    try:
        return parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None


def _parse_xml(body: bytes, encoding: str | None) -> etree._Element:
    def parser(codec: str | None) -> etree.XMLParser:
        return etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, encoding=codec
        )

    try:
        return etree.fromstring(body, parser(None))
    except etree.XMLSyntaxError as exc:
        # Legacy bytes without an XML declaration (ISO-8859-1 feeds): XML says UTF-8, the
        # server's charset (or windows-1252, the web's usual legacy default) says otherwise.
        fallback = encoding if encoding and encoding.lower() not in ("utf-8", "utf8") else "cp1252"
        if "encoding" not in str(exc).lower() or body.lstrip().startswith(b"<?xml"):
            raise NotAFeed(f"malformed XML: {exc}") from exc
        try:
            return etree.fromstring(body, parser(fallback))
        except (etree.XMLSyntaxError, LookupError) as again:
            raise NotAFeed(f"malformed XML: {again}") from again


def iter_feed(body: bytes, encoding: str | None = None) -> Iterator[FeedEntry]:
    """Yield the item links of an RSS, Atom or JSON feed (``encoding``: the HTTP charset)."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        yield from _json_feed(body)
        return
    root = _parse_xml(body, encoding)
    if root is None or _local(root.tag) not in ("rss", "feed", "rdf"):
        name = _local(root.tag) if root is not None else ""
        raise NotAFeed(f"root element <{name}> is not rss/feed/rdf")
    for item in root.iter():
        if _local(item.tag) in ("item", "entry"):
            entry = _xml_entry(item)
            if entry is not None:
                yield entry


def _xml_entry(item: etree._Element) -> FeedEntry | None:
    link = guid = title = published = None
    for child in item:
        name = _local(child.tag)
        if name == "link":
            rel = (child.get("rel") or "alternate").strip().lower()
            href = (child.get("href") or child.text or "").strip()
            if href and rel not in _NOT_ARTICLE_RELS and (link is None or rel == "alternate"):
                link = href if link is None or rel == "alternate" else link
        elif name == "guid":
            text = (child.text or "").strip()
            permalink = (child.get("isPermaLink") or "true").strip().lower() != "false"
            if permalink and text.startswith(("http://", "https://")):
                guid = text
        elif name == "title":
            title = (child.text or "").strip() or None
        elif name in ("pubdate", "published", "updated", "date", "issued"):
            published = published or _date(child.text)
    target = link or guid
    return FeedEntry(link=target, title=title, published=published) if target else None


def _json_feed(body: bytes) -> Iterator[FeedEntry]:
    try:
        data: Any = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAFeed(f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise NotAFeed("JSON without a jsonfeed.org version: not a JSON Feed")
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link.strip():
            continue
        title = item.get("title") if isinstance(item.get("title"), str) else None
        published = _date(item.get("date_published") or item.get("date_modified"))
        yield FeedEntry(link=link.strip(), title=title, published=published)
