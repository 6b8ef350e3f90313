"""What the listings say about an article, merged the same way wherever a listing is read.

The live spiders and ``scrapy reextract`` (which rebuilds hints from archived listings) must
give the same item for the same page, so they share this one merge: the most specific listing
is the source (:func:`newsarchive.discovery.pangea.source_rank`; the first one on a tie), the
Google News fields of every listing are merged in, and the first lastmod is kept.
"""

from __future__ import annotations

from typing import Any

from newsarchive.discovery.dates import iso_utc
from newsarchive.discovery.pangea import source_rank
from newsarchive.discovery.sitemaps import SitemapEntry


def merge_listing(hints: dict[str, Any] | None, source: str, entry: SitemapEntry) -> dict[str, Any]:
    """``hints`` (a new dict when ``None``) with what ``entry``, listed at ``source``, adds.

    The dict is updated in place: a request already queued for the article shares it.
    """
    if hints is None:
        hints = {"discovered_from": source}
    elif source_rank(source) < source_rank(hints["discovered_from"]):
        hints["discovered_from"] = source
    news = entry.news
    if news is not None:
        found = {
            "news_title": news.title,
            "news_language": news.language,
            "news_publication_date": iso_utc(news.publication_date),
            "publication": news.publication,
        }
        hints.update({k: v for k, v in found.items() if v})
    if entry.lastmod is not None:
        hints.setdefault("lastmod", iso_utc(entry.lastmod))
    return hints


def with_first_source(hints: dict[str, Any] | None, first: str) -> dict[str, Any]:
    """Listing hints read back from an archive, given where the crawl met the article first
    (the ``Referer`` of its request: a listing, or a page whose link it followed).

    The crawl kept that first source unless a strictly more specific listing came later
    (:func:`merge_listing`), so the same choice is made here.
    """
    if hints is None:
        return {"discovered_from": first}
    if source_rank(first) <= source_rank(hints["discovered_from"]):
        return {**hints, "discovered_from": first}
    return hints
