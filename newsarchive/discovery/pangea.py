"""URL shapes of the Pangea CMS (RFE/RL, VOA and their language services).

Articles live at ``/a/<slug>/<id>.html``, ``/a/<id>.html`` (slugless, the majority on
non-Latin-script services) and the legacy ``/content/<slug>/<id>.html``. The numeric id is one
global space across all services, so it is the article's identity.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_ARTICLE_PATH = re.compile(r"^/(?:a|content)/(?:[^/?#]+/)?(\d{4,12})\.html$")
_NEVER_HOSTS = re.compile(
    r"(^|\.)(showcase\.pangea-cms\.com|pangea-cms\.com)$|(^|[.-])(preview|staging|stage|dev)[.-]"
)


def article_id(url: str | None) -> str | None:
    """The Pangea article id of an article URL, or None when the URL is not an article.

    The one definition, for discovery (which URLs are requested, the state's article key), the
    section pages' article links and extraction (the item's ``article_id``): the path must be
    exactly one of the shapes above, ``.html`` (Pangea serves no ``.htm``), and carry no query
    (``?p=2`` is a live blog's second page, not another article).
    """
    if not url:
        return None
    parts = urlsplit(url)
    if parts.query:
        return None
    match = _ARTICLE_PATH.match(parts.path)
    return match.group(1) if match else None


def is_excluded_host(host: str) -> bool:
    """Preview, staging and showcase hosts are never fetched."""
    return bool(_NEVER_HOSTS.search(host.lower()))


def sitemap_role(url: str) -> str:
    """The role of a child sitemap: news, latest, sections, videos, archive or other."""
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    match = re.match(r"^sitemap_\d+_([a-z0-9]+)\.xml(?:\.gz)?$", name)
    if not match:
        return "other"
    suffix = match.group(1)
    if suffix.isdigit():
        return "archive"
    if suffix in ("news", "latest", "sections", "videos"):
        return suffix
    return "other"


def source_rank(url: str) -> int:
    """How specific a listing is: news sitemap 0, latest 1, archive slice 2, anything else 3.

    An article listed twice is credited to the most specific listing, so ``discovered_from`` does
    not depend on the order in which sitemaps happen to answer (live crawl, replay, reextract).
    """
    return {"news": 0, "latest": 1, "archive": 2}.get(sitemap_role(url), 3)
