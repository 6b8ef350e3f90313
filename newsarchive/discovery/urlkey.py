"""One stable key per article on any site: what the state store, conditional requests and item
versions are keyed by, across runs.

Pangea sites: the numeric article id (one global space across services; what state files have
always held). Everywhere else: ``url:`` + the SHA-1 of the normalised URL, so the same article
listed as ``http://www.example.org/a?utm_source=x#top`` and ``https://example.org/a`` is one
article. The canonical link is deliberately not the key: it is only known after the fetch (a
scheduled run must decide what to skip before it), and sites that point every page's canonical
at their home page exist. Scrapy-free: the spiders, the pipelines, ``reextract`` and the state
migration all call this.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from newsarchive.discovery.pangea import article_id as pangea_article_id

#: Query parameters that only track the reader; an article URL is fetched without them.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "_ga"}
)
URL_KEY_PREFIX = "url:"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def strip_tracking(url: str) -> str:
    """``url`` without ``utm_*`` and click-id parameters (the rest of the query kept in order)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def normalize_url(url: str) -> str:
    """The article identity of ``url``: one spelling for every way a site writes the same URL.

    w3lib's canonical form (lowercase scheme and host, query sorted, percent-encoding unified,
    fragment dropped) without tracking parameters or a default port; ``http`` is folded into
    ``https`` and a leading ``www.`` dropped, because news sites serve (and list) both and the
    ``news`` spider treats a host and its ``www.`` twin as one site. The path is kept as is
    (``/a`` and ``/a/`` can be different pages).
    """
    parts = urlsplit(canonicalize_url(strip_tracking(url.strip())))
    host = (parts.hostname or "").removeprefix("www.")
    try:
        port = parts.port
    except ValueError:  # a malformed port: keep whatever the URL said
        port = None
    scheme = parts.scheme
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    if scheme == "http":
        scheme = "https"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def url_key(url: str) -> str:
    """``url:<sha1 of the normalised URL>``: fixed length, never a Pangea id (those are digits)."""
    return URL_KEY_PREFIX + hashlib.sha1(normalize_url(url).encode("utf-8")).hexdigest()


def article_key(url: str, article_id: str | None = None) -> str:
    """The key of the article at ``url``: its Pangea id (given, or from the URL), else
    :func:`url_key`."""
    if article_id:
        return str(article_id)
    return pangea_article_id(strip_tracking(url)) or url_key(url)
