"""Every ``request.meta`` key newsarchive sets or reads, each named for what it holds.

Spiders and components talk through ``request.meta`` (Scrapy's way); one module of keys means a
key has one spelling and one meaning, and a reader finds who sets it with one search. The values
are the wire names (``newsarchive_<what>``) and never change: documented per-request overrides
(``newsarchive_backoff``, ``newsarchive_conditional``) are set by users' spiders.
"""

from __future__ import annotations

# -- set by the spiders on the requests they make -----------------------------------------------
#: What a discovery request is for: ``robots``, ``sitemap:<kind>``, ``feed``, ``feed:guess``,
#: ``home``, ``section`` (article requests have none). Its failure and accounting depend on it.
ROLE = "newsarchive_role"
#: The discovery hints of an article request (where it was listed, its dates):
#: :func:`newsarchive.discovery.hints.merge_listing`.
HINTS = "newsarchive_hints"
#: The article key of a listed article (:func:`newsarchive.discovery.urlkey.article_key`), what
#: the state store is keyed by.
ARTICLE_KEY = "newsarchive_article_key"
#: ``rferl``: the Pangea id of a listed article (also its article key).
ARTICLE_ID = "newsarchive_article_id"
#: ``news``: the host of the site (in the sites file) a request belongs to.
SITE = "newsarchive_site"
#: ``news``: hops from the site's listings (sitemap and feed entries are one hop).
DEPTH = "newsarchive_depth"

# -- set by the components -----------------------------------------------------------------------
#: The :class:`~newsarchive.archive.writer.RecordLocation` of the response's WARC record (set by
#: the WARC middleware, or by replay to the record it replays).
WARC_RECORD = "newsarchive_warc"
#: When the response was received (a ``datetime``; replay: the record's ``WARC-Date``).
FETCHED_AT = "newsarchive_fetched_at"
#: The stored full response record a conditional request's 304 is a revisit of
#: (:class:`~newsarchive.state.rows.StoredRecord`, set by the conditional middleware).
REVISIT_OF = "newsarchive_revisit_of"
#: On a known article's answer that says it is gone: why (``http_404``, ``http_410``,
#: ``redirect``; set by the removal middleware). The spider yields no item for it.
REMOVED = "newsarchive_removed"
#: On a re-check requested from the state store, not from a listing: the article key (set by
#: the spiders' re-check, :mod:`newsarchive.spiders.recheck`).
RECHECK = "newsarchive_recheck"
#: The URL first requested, before redirects (set by the accounting extension).
ORIGIN = "newsarchive_origin"
#: On the robots.txt request (and its retries/redirects): the netloc whose rules it carries.
ROBOTSTXT_FOR = "newsarchive_robotstxt_for"
#: Distributed runs: the in-flight token of a request taken from the shared queue (set by the
#: distributed scheduler, acked by the shared-frontier spider middleware).
INFLIGHT = "newsarchive_inflight"

#: On a page requisite's request (and its redirects): the
#: :class:`~newsarchive.downloadermiddlewares.requisitebudget.PageBudget` of the article page it
#: is fetched for (set by the requisites spider middleware, spent by the budget middleware).
REQUISITE_BUDGET = "newsarchive_requisite_budget"

# -- documented per-request overrides -----------------------------------------------------------
#: ``True`` on a request of a user's own spider: its response is an article page, handed to
#: extraction by :class:`~newsarchive.spidermiddlewares.articlepage.ArticlePageMiddleware`.
ARTICLE = "newsarchive_article"
#: ``False``: send the request unconditionally (no ``If-None-Match`` / ``If-Modified-Since``).
CONDITIONAL = "newsarchive_conditional"
#: Seconds to wait before this request's retry, instead of the computed backoff.
BACKOFF_DELAY = "newsarchive_backoff"


def request_key(meta: dict) -> str | None:
    """The article key a spider put on an article request (None: not an article request)."""
    key = meta.get(ARTICLE_KEY) or meta.get(ARTICLE_ID)
    return str(key) if key else None
