"""Is a known article gone? The answers a site gives when it takes an article down.

``404``/``410``, or a redirect that lands on a section page instead of the article: the site's
home page, a path above the article's (``/news/2026/story`` → ``/news/``), or, on Pangea sites,
any page without an article id. A redirect to another article (a moved URL) is not a removal.
Scrapy-free: the crawl's removal middleware and ``scrapy history`` ask the same question.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from newsarchive.discovery.pangea import article_id

GONE_STATUSES = (404, 410)


def is_section_redirect(requested: str, final: str) -> bool:
    """``final`` (where a redirect from the article ``requested`` ended) is a section page."""
    old, new = urlsplit(requested), urlsplit(final)
    if (old.hostname or "").removeprefix("www.") != (new.hostname or "").removeprefix("www."):
        return False
    old_path, new_path = old.path.rstrip("/"), new.path.rstrip("/")
    if old_path == new_path:
        return False
    if article_id(requested) is not None:
        return article_id(final) is None
    return new_path == "" or old_path.startswith(new_path + "/")


def removal_reason(status: int, requested: str, final: str) -> str | None:
    """``http_404``, ``http_410`` or ``redirect`` when the answer says the article is gone."""
    if status in GONE_STATUSES:
        return f"http_{status}"
    if 200 <= status < 300 and final != requested and is_section_redirect(requested, final):
        return "redirect"
    return None
