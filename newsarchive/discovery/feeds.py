"""RSS 2.0 / Atom link extraction for discovery (no entity expansion, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from newsarchive.discovery.dates import parse_w3c_datetime


class NotAFeed(ValueError):
    """The body is not an RSS or Atom feed."""


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
    except (TypeError, ValueError):
        return None


def iter_feed(body: bytes) -> Iterator[FeedEntry]:
    """Yield the item links of an RSS or Atom feed."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise NotAFeed(f"malformed XML: {exc}") from exc
    if _local(root.tag) not in ("rss", "feed", "rdf"):
        raise NotAFeed(f"root element <{_local(root.tag)}> is not rss/feed")
    for item in root.iter():
        name = _local(item.tag)
        if name not in ("item", "entry"):
            continue
        link = title = published = None
        for child in item:
            cname = _local(child.tag)
            if cname == "link":
                link = (child.get("href") or child.text or "").strip() or link
            elif cname == "title":
                title = (child.text or "").strip() or None
            elif cname in ("pubdate", "published", "updated", "date"):
                published = published or _date(child.text)
        if link:
            yield FeedEntry(link=link, title=title, published=published)
