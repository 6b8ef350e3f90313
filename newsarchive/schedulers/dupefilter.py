"""scrapy-redis's shared duplicate filter, with one fingerprint per article.

On one machine the spider itself requests each article once, whichever URLs list it (the
Pangea id, the article key: :mod:`newsarchive.discovery.hints`). In a distributed run the
listings are read by different workers, so the shared filter takes that over: an article request
(one that carries an article key) is fingerprinted by its key, any other request by its URL as
scrapy-redis does. Redirects of an article request keep the key in their meta but are requests
for another URL, so they are fingerprinted by URL.
"""

from __future__ import annotations

import hashlib

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter

from newsarchive import metakeys


class ArticleDupeFilter(RFPDupeFilter):
    """Fingerprint article requests by article key, the rest as scrapy-redis does."""

    def request_fingerprint(self, request: Request) -> str:
        key = metakeys.request_key(request.meta)
        if key is None or "redirect_urls" in request.meta:
            return super().request_fingerprint(request)
        return hashlib.sha1(f"article {key}".encode()).hexdigest()
