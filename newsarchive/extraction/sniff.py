"""Is this HTML? Said before extraction, so that a WARC, a PDF or an image handed to
``scrapy extract`` is refused in words instead of giving an empty item.

Extraction itself accepts anything (a crawl's responses are sniffed by Scrapy first); a user's
file is not. The check looks at the first bytes only: magic numbers of the formats people hand
over by mistake, then whether the text carries any HTML tag at all.
"""

from __future__ import annotations

import re

#: How much of the start of a page is looked at.
HEAD = 64 * 1024
#: What the first bytes say a file is, for the formats people give by mistake.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"WARC/", "a WARC file"),
    (b"filedesc://", "an ARC file"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP file (a WACZ? an office document?)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "gzip data"),
)
#: Any of these tags near the start makes text HTML (a fragment with a ``<p>`` is fine).
_TAG = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|p|div|article|main|section|h[1-6]|span|a)"
    rb"[\s>/]",
    re.I,
)
_XML = re.compile(rb"^\s*<\?xml[^>]*>\s*(?:<!--.*?-->\s*)*<(rss|feed|urlset|sitemapindex)\b",
                  re.I | re.S)  # fmt: skip


def not_html(data: bytes) -> str | None:
    """What ``data`` is when it is not an HTML page (``"a WARC file"``); None when it is."""
    head = data[:HEAD]
    for magic, what in MAGIC:
        if head.startswith(magic):
            return what
    if not head.strip():
        return "empty"
    feed = _XML.match(head)
    if feed:
        kind = feed.group(1).decode().lower()
        return {"rss": "an RSS feed", "feed": "an Atom feed"}.get(kind, "a sitemap")
    if b"\x00" in head:
        return "binary data"
    if not _TAG.search(head):
        return "text without any HTML tag in its first 64 KiB"
    return None
