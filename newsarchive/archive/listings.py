"""What a crawl knew besides the page, read back from its archive: sitemap and feed hints.

``scrapy reextract`` must build the items the crawl built, and those carry discovery hints (news
sitemap title, language and date, ``discovered_from``, ``publication``) that the article page
does not hold. The crawl archived every sitemap and feed it read, so the hints are read back from
them here and matched to pages by article key (:mod:`newsarchive.discovery.urlkey`), with the
spiders' merge rules. A page no listing names was found by following a link (a section page,
``news``' link-following): its archived request's ``Referer`` names the page it was found on, as
``discovered_from`` did. The run id comes from each file's ``warcinfo``; an item's ``version``
and ``previous_digest`` (decided by the crawl's state store) from the item the crawl archived
in a ``metadata`` record next to the response. Nothing here imports Scrapy.
"""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import urljoin, urlsplit

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.reader import (
    ArchivedRecord,
    ArchiveError,
    RecordSource,
    entity_body,
    read_record,
)
from newsarchive.discovery.feeds import NotAFeed, iter_feed
from newsarchive.discovery.hints import merge_listing, with_first_source
from newsarchive.discovery.sitemaps import NotASitemap, SitemapEntry, iter_sitemap
from newsarchive.discovery.urlkey import article_key
from newsarchive.extraction.payload import DECODE_ERRORS, decode_content


class ArchiveContext:
    """What the crawl knew besides the page: sitemap and feed hints per article key, and the
    run id per archive file.

    Feed it every record with :meth:`visit` (e.g. as :class:`ArchiveIndex`'s ``visit``), then
    call :meth:`read_listings` once the index can resolve revisits.
    """

    def __init__(self) -> None:
        self.hints: dict[str, dict[str, Any]] = {}
        self.run_ids: dict[str, str] = {}
        self.referers: dict[str, str] = {}
        """Article key → ``Referer`` of its first archived request."""
        self.versions: dict[str, tuple[int | None, str | None]] = {}
        """Response record id → ``(version, previous_digest)`` of the item the crawl wrote for
        it (its ``metadata`` record): what the crawl's state store decided, kept by reextract."""
        self._listings: list[tuple[RecordSource, int]] = []

    def visit(self, record: ArchivedRecord) -> None:
        if record.rec_type == "warcinfo" and record.payload:
            for line in record.payload.decode("utf-8", "replace").splitlines():
                name, _, value = line.partition(":")
                if name.strip() == "isPartOf" and value.strip():
                    self.run_ids[record.source.label] = value.strip()
        elif record.rec_type == "metadata" and record.payload:
            self._read_item_record(record)
        elif record.rec_type == "request" and record.url:
            referer = record.header("Referer")
            if referer:
                self.referers.setdefault(article_key(record.url), referer)
        elif record.url and (
            record.rec_type == "revisit"
            or (record.rec_type == "response" and looks_like_listing(record))
        ):
            # Read once the index can resolve revisits (a scheduled run's sitemaps are all
            # revisits); in file order, so "first source wins" as in the crawl.
            self._listings.append((record.source, record.offset))

    def _read_item_record(self, record: ArchivedRecord) -> None:
        """The crawl's item, kept in a ``metadata`` record next to its response."""
        refers_to = record.refers_to
        if not refers_to or "json" not in (record.content_type or ""):
            return
        try:
            item = json.loads(record.payload or b"")
        except ValueError:
            return
        if isinstance(item, dict) and "version" in item:
            version = item.get("version")
            previous = item.get("previous_digest")
            self.versions[refers_to] = (
                version if isinstance(version, int) else None,
                previous if isinstance(previous, str) else None,
            )

    def hints_for(self, key: str) -> dict[str, Any]:
        """The listings' hints of an article, credited to the source its request names."""
        referer = self.referers.get(key)
        if referer is None:
            return self.hints.get(key, {})
        return with_first_source(self.hints.get(key), referer)

    def read_listings(self, index: ArchiveIndex) -> None:
        """Take the hints of every archived sitemap and feed seen by :meth:`visit`."""
        for source, offset in self._listings:
            try:
                record = read_record(source, offset)
            except ArchiveError:
                continue  # reported by the pass that found the record
            if record.rec_type == "revisit":
                record = index.resolve(record)
            if record.payload is not None and looks_like_listing(record):
                self._read_listing(record)
        self._listings.clear()

    def _read_listing(self, record: ArchivedRecord) -> None:
        """A sitemap, else a feed (RSS, Atom, JSON Feed), else nothing."""
        try:
            body = decode_content(entity_body(record), record.header("Content-Encoding") or "")
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
        except DECODE_ERRORS:
            return
        try:
            entries = list(iter_sitemap(body))
        except (NotASitemap, ValueError):
            try:
                entries = [
                    SitemapEntry(loc=urljoin(record.url or "", e.link), lastmod=e.published)
                    for e in iter_feed(body)
                ]
            except (NotAFeed, ValueError):
                return
        for entry in entries:
            key = article_key(entry.loc)
            self.hints[key] = merge_listing(self.hints.get(key), record.url, entry)


def looks_like_listing(record: ArchivedRecord) -> bool:
    """A 200 response that may be a sitemap or a feed (by path or Content-Type)."""
    if record.status != 200:
        return False
    path = urlsplit(record.url or "").path.lower()
    kind = (record.header("Content-Type") or "").lower()
    return (
        path.endswith((".xml", ".xml.gz", ".json"))
        or ("xml" in kind and "html" not in kind)
        or "json" in kind
    )
