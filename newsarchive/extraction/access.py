"""Whether the publisher declares an article free to read (schema.org ``isAccessibleForFree``).

Publishers declare paywalled articles this way for search engines (Google's "subscription and
paywalled content" structured data): ``isAccessibleForFree`` on the article object, or on a
``hasPart`` ``WebPageElement`` naming the paywalled part by CSS selector. Researchers filter on
it: the text of a paywalled page may be cut short, or be there in full for the crawler. The value
is what the page declares, never a guess from the text.
"""

from __future__ import annotations

from typing import Any

_TRUE = {"true", "yes", "1", "https://schema.org/true", "http://schema.org/true"}
_FALSE = {"false", "no", "0", "https://schema.org/false", "http://schema.org/false"}


def declared_bool(value: Any) -> bool | None:
    """A schema.org Boolean as pages write it: ``true``, ``"True"``, ``"false"``, ``"False"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and len(value) == 1:
        return declared_bool(value[0])
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _parts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [part for part in value if isinstance(part, dict)]
    return []


def accessible_for_free(article: dict[str, Any]) -> bool | None:
    """``False`` when the article or any part of it is declared paywalled, ``True`` when it is
    declared free, ``None`` when the page does not say (or says something unreadable)."""
    own = declared_bool(article.get("isAccessibleForFree"))
    parts = [declared_bool(p.get("isAccessibleForFree")) for p in _parts(article.get("hasPart"))]
    if own is False or False in parts:
        return False
    if own is True or True in parts:
        return True
    return None


def declared_access(articles: list[dict[str, Any]], pages: list[dict[str, Any]]) -> bool | None:
    """The first declaration among the page's article objects, then its ``WebPage`` objects
    (Yoast's graph declares it on the page; some pages carry two article objects, one silent)."""
    declared = (accessible_for_free(obj) for obj in [*articles, *pages])
    return next((value for value in declared if value is not None), None)


def declared_in_microdata(values: list[str]) -> bool | None:
    """``<meta itemprop="isAccessibleForFree" content=...>`` values, in page order: one paywalled
    part (a ``hasPart`` ``WebPageElement``) makes the article paywalled."""
    declared = [declared_bool(value) for value in values]
    if False in declared:
        return False
    return True if True in declared else None
