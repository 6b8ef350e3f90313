"""Page metadata from the publisher's own declarations: JSON-LD, meta tags, links, Pangea's utag.

Each reader returns :class:`Facts` and never guesses; ``extract.py`` ranks the sources. Markup is
read through lxml attributes, not regexes, because Pangea writes ``content`` before ``property``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from newsarchive.extraction.access import declared_access, declared_in_microdata
from newsarchive.extraction.bylines import clean_author, split_names
from newsarchive.extraction.dates import Stamp, parse_stamp
from newsarchive.extraction.text import clean_space
from newsarchive.extraction.titles import is_site_name, strip_site_suffix

__all__ = ["clean_author", "is_site_name", "split_names", "strip_site_suffix"]  # moved, re-exported

#: schema.org types whose top-level fields describe the article itself.
ARTICLE_TYPES = frozenset(
    """NewsArticle Article ReportageNewsArticle AnalysisNewsArticle OpinionNewsArticle
    BackgroundNewsArticle ReviewNewsArticle AskPublicQuestion ClaimReview BlogPosting
    SatiricalArticle Report ScholarlyArticle TechArticle LiveBlogPosting""".split()  # noqa: SIM905 - a word list reads better than quoted strings
)
_PERSON_TYPES = frozenset({"Person"})
_SCRIPT_CODES = frozenset(
    """Latn Cyrl Arab Armn Geor Grek Hebr Deva Beng Guru Thaa Tibt
    Hans Hant Jpan Kore Mong""".split()  # noqa: SIM905 - a word list reads better than quoted strings
)
_UTAG = re.compile(r"\butag_data\s*=\s*\{(?P<body>.*?)\}\s*;", re.S)
_UTAG_PAIR = re.compile(r"""(?P<key>[A-Za-z_][\w]*)\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)\"""")
_JS_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)


@dataclass
class Facts:
    """What one source says about the page; empty fields mean "this source does not say"."""

    title: str | None = None
    titles: list[str] = field(default_factory=list)
    """Every title this source declares, in priority order (``title`` is the first)."""
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    """Person bylines, in page order."""
    credits: list[str] = field(default_factory=list)
    """The person bylines as written, before splitting ("Le Figaro et AFP")."""
    organizations: list[str] = field(default_factory=list)
    """Organisation "authors" (JSON-LD ``Organization``): only a fallback byline."""
    published: Stamp | None = None
    modified: Stamp | None = None
    language: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    url: str | None = None
    article_id: str | None = None
    site_name: str | None = None
    types: list[str] = field(default_factory=list)
    """schema.org ``@type`` values of the page's JSON-LD objects (``VideoObject``...)."""
    accessible_for_free: bool | None = None
    """schema.org ``isAccessibleForFree`` of the article (:mod:`.access`)."""


# -- small normalisers -------------------------------------------------------------------------


def text_value(value: Any) -> str | None:
    """A clean single-line string from a JSON-LD or attribute value (entities decoded)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if not isinstance(value, str):
        return None
    cleaned = clean_space(html.unescape(value))
    return cleaned or None


def normalize_language(value: str | None) -> str | None:
    """A BCP 47 tag cut to ``language[-Script][-REGION]``: ``en-US`` stays, ``en_us`` → ``en-US``,
    Pangea's invented ``en-Poly`` → ``en``, ``sr-latn-rs`` → ``sr-Latn-RS``."""
    if not value:
        return None
    parts = [p for p in re.split(r"[-_\s]+", value.strip()) if p]
    if not parts or not re.fullmatch(r"[A-Za-z]{2,3}", parts[0]):
        return None
    result = [parts[0].lower()]
    rest = parts[1:]
    if rest and rest[0].title() in _SCRIPT_CODES:
        result.append(rest.pop(0).title())
    if rest and re.fullmatch(r"[A-Za-z]{2}|\d{3}", rest[0]):
        result.append(rest[0].upper())
    return "-".join(result)


def split_tags(value: Any, separators: str = ",") -> list[str]:
    """Keyword lists (``"a, b"`` or ``["a", "b"]``), cleaned, de-duplicated ignoring case."""
    items: list[str] = []
    if isinstance(value, str):
        items = re.split(f"[{re.escape(separators)}]", value)
    elif isinstance(value, list):
        for item in value:
            items.extend(split_tags(item, separators))
    return unique(t for t in (text_value(i) for i in items) if t)


def unique(values: Iterator[str] | list[str]) -> list[str]:
    """Order-preserving de-duplication, ignoring case."""
    seen: set[str] = set()
    result = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result


def absolute_url(value: str | None, base: str | None) -> str | None:
    """An absolute http(s) URL, or None for empty values and other schemes."""
    value = text_value(value)
    if not value:
        return None
    resolved = urljoin(base or "", value)
    return resolved if urlsplit(resolved).scheme in ("http", "https") else None


# -- JSON-LD -----------------------------------------------------------------------------------


def _types(obj: dict[str, Any]) -> list[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return [v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)]


def _flatten(value: Any) -> Iterator[dict[str, Any]]:
    """Objects of a JSON-LD document: arrays and ``@graph`` unrolled, ``mainEntity`` followed."""
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        if "@graph" in value:
            yield from _flatten(value["@graph"])
        if "@type" in value:
            yield value
        if isinstance(value.get("mainEntity"), dict | list):
            yield from _flatten(value["mainEntity"])


@lru_cache(maxsize=4)
def jsonld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page; broken scripts are skipped, not fatal.

    Cached for the last few trees, like :func:`~newsarchive.extraction.document.parse`
    (``is_article`` and ``extract`` both read them): callers must not modify the result."""
    objects: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = (script.text or "").strip()
        raw = re.sub(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$", "", raw).strip().rstrip(";")
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        objects.extend(_flatten(data))
    return objects


def jsonld_types(tree: HtmlElement) -> set[str]:
    """Every ``@type`` the page's JSON-LD objects declare: what ``is_article`` asks, without
    building the article's :class:`Facts` (a millisecond a page that ``extract`` repeats)."""
    return {t for obj in jsonld_objects(tree) for t in _types(obj)}


def _image_url(value: Any) -> str | None:
    if isinstance(value, list):
        return next((u for u in map(_image_url, value) if u), None)
    if isinstance(value, dict):
        return text_value(value.get("url") or value.get("contentUrl") or value.get("@id"))
    return text_value(value)


def _people(value: Any) -> tuple[list[str], list[str], list[str]]:
    """(persons, organisations, bylines as written) named in a JSON-LD ``author``: object, array
    or bare string. An organisation listed next to a person (``[Person "Paula Steiger",
    Organization "SDA"]``: an agency credited with the reporter) is part of the written byline,
    in its place; alone, organisations are only a fallback (see ``extract._authors``)."""
    persons: list[str] = []
    organizations: list[str] = []
    written: list[tuple[str, bool]] = []  # (name as written, names a person)
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            persons.extend(split_names(item))
            written.extend((n, True) for n in filter(None, [text_value(item)]))
        elif isinstance(item, dict):
            name = text_value(item.get("name"))
            is_person = bool(set(_types(item)) & _PERSON_TYPES or not _types(item))
            (persons if is_person else organizations).extend(split_names(name))
            written.extend((n, is_person) for n in filter(None, [name]))
    credits = [n for n, is_person in written if is_person or persons]
    return unique(persons), unique(organizations), credits


def from_jsonld(tree: HtmlElement, objects: list[dict[str, Any]] | None = None) -> Facts:
    """Facts from the page's article object (top-level fields only: a ClaimReview's nested
    ``itemReviewed`` dates are about the claim, not the article)."""
    objects = jsonld_objects(tree) if objects is None else objects
    facts = Facts(
        types=unique(t for obj in objects for t in _types(obj)),
        accessible_for_free=declared_access(
            articles=[o for o in objects if set(_types(o)) & ARTICLE_TYPES],
            pages=[o for o in objects if any(t.endswith("WebPage") for t in _types(o))],
        ),
    )
    article = next((o for o in objects if set(_types(o)) & ARTICLE_TYPES), None)
    if article is None:
        return facts
    facts.title = text_value(article.get("headline")) or text_value(article.get("name"))
    facts.description = text_value(article.get("description"))
    facts.authors, facts.organizations, facts.credits = _people(article.get("author"))
    facts.published = parse_stamp(article.get("datePublished")) or parse_stamp(
        article.get("dateCreated")
    )
    facts.modified = parse_stamp(article.get("dateModified"))
    language = article.get("inLanguage")
    if isinstance(language, dict):
        language = language.get("alternateName") or language.get("name")
    facts.language = normalize_language(text_value(language))
    facts.section = text_value(article.get("articleSection"))
    facts.tags = split_tags(article.get("keywords"))
    facts.image = _image_url(article.get("image"))
    page = article.get("mainEntityOfPage")
    facts.url = text_value(article.get("url")) or (
        text_value(page.get("@id")) if isinstance(page, dict) else text_value(page)
    )
    publisher = article.get("publisher")
    if isinstance(publisher, dict):
        facts.site_name = text_value(publisher.get("name"))
    return facts


# -- meta tags, links, <html lang> -------------------------------------------------------------


def meta_tags(tree: HtmlElement) -> dict[str, list[str]]:
    """``property``/``name``/``itemprop``/``http-equiv`` (lower-cased) → contents, in page order."""
    tags: dict[str, list[str]] = {}
    for meta in tree.iterfind(".//meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attribute)
            if key:
                tags.setdefault(key.strip().lower(), []).append(content)
    return tags


def _first(tags: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        for value in tags.get(key, []):
            cleaned = text_value(value)
            if cleaned:
                return cleaned
    return None


def canonical_link(tree: HtmlElement) -> str | None:
    """``href`` of ``<link rel=canonical>``, as written."""
    for link in tree.iterfind(".//link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            return text_value(link.get("href"))
    return None


def html_lang(tree: HtmlElement) -> str | None:
    """``<html lang>`` (or ``xml:lang``), normalised."""
    root = tree.getroottree().getroot()
    value = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    return normalize_language(value or root.get("xml:lang"))


def from_meta(tree: HtmlElement, url: str | None = None) -> Facts:
    """Facts from OpenGraph, Twitter, Dublin Core and plain ``<meta>`` tags and ``<link>``s."""
    tags = meta_tags(tree)
    facts = Facts()
    facts.site_name = _first(tags, "og:site_name", "application-name")
    # <meta name=headline> only: a microdata itemprop=headline <meta> may belong to a teaser
    named = [m.get("content") for m in tree.iterfind(".//meta") if m.get("name") == "headline"]
    facts.titles = unique(
        t
        for values in (
            named,
            *(tags.get(k, []) for k in ("og:title", "twitter:title", "dc.title", "title")),
        )
        for t in (text_value(v) for v in values)
        if t
    )
    facts.title = next(iter(facts.titles), None)
    facts.description = _first(tags, "og:description", "description", "twitter:description")
    facts.authors = split_names(_first(tags, "author", "article:author", "dc.creator", "byl"))
    facts.published = next(
        (
            stamp
            for key in (
                "article:published_time",
                "og:article:published_time",
                "datepublished",
                "pubdate",
                "publish-date",
                "dc.date.issued",
                "dc.date",
                "date",
                "sailthru.date",
                "parsely-pub-date",
            )
            for value in tags.get(key, [])
            if (stamp := parse_stamp(value))
        ),
        None,
    )
    facts.modified = next(
        (
            stamp
            for key in ("article:modified_time", "og:updated_time", "datemodified", "last-modified")
            for value in tags.get(key, [])
            if (stamp := parse_stamp(value))
        ),
        None,
    )
    # <html lang> before og:locale, which many non-English sites leave at its "en_US" default
    facts.language = html_lang(tree) or normalize_language(
        _first(tags, "content-language", "dc.language", "language", "og:locale")
    )
    facts.section = _first(tags, "article:section")
    keywords = split_tags(tags.get("news_keywords", [])) or split_tags(tags.get("article:tag", []))
    if not keywords:
        site = (facts.site_name or "").casefold()
        keywords = [k for k in split_tags(tags.get("keywords", [])) if k.casefold() != site]
    facts.tags = keywords
    image = _first(tags, "og:image", "og:image:url", "og:image:secure_url", "twitter:image")
    if not image:
        image = next(
            (
                link.get("href")
                for link in tree.iterfind(".//link")
                if (link.get("rel") or "").lower() == "image_src"
            ),
            None,
        )
    facts.image = absolute_url(image, url)
    canonical = canonical_link(tree)
    og_url = absolute_url(_first(tags, "og:url"), url)
    if canonical and (canonical.startswith(("http://", "https://", "/")) or not og_url):
        # a document-relative canonical ("./rferl_files/rferl.html") is a "Save Page As"
        # artefact: og:url is the better witness then
        facts.url = absolute_url(canonical, url)
    facts.url = facts.url or og_url
    facts.accessible_for_free = declared_in_microdata(tags.get("isaccessibleforfree", []))
    return facts


# -- Pangea's Tealium utag_data ----------------------------------------------------------------


def _unescape_js(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\r"}.get(code, code)

    return html.unescape(_JS_ESCAPE.sub(replace, value))


def utag_data(tree: HtmlElement) -> dict[str, str]:
    """The string fields of Pangea's inline ``var utag_data={...};`` analytics object."""
    for script in tree.iterfind(".//script"):
        source = script.text or ""
        if "utag_data" not in source:
            continue
        match = _UTAG.search(source)
        if match:
            return {m["key"]: _unescape_js(m["value"]) for m in _UTAG_PAIR.finditer(match["body"])}
    return {}


def from_utag(data: dict[str, str]) -> Facts:
    """Facts from ``utag_data``: byline, UTC publication time, tags (``;``-separated), id."""
    facts = Facts()
    facts.title = text_value(data.get("headline") or data.get("page_title"))
    byline = text_value(data.get("byline"))
    if byline:
        facts.authors = split_names(byline)
    try:
        parts = [int(data[k]) for k in ("pub_year", "pub_month", "pub_day")]
        hour, minute = int(data.get("pub_hour") or 0), int(data.get("pub_minute") or 0)
    except (KeyError, ValueError):
        pass
    else:
        stamp = f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}T{hour:02d}:{minute:02d}:00Z"
        facts.published = parse_stamp(stamp)
    facts.section = text_value(data.get("section"))
    facts.tags = split_tags(data.get("tags"), ";")
    uid = (data.get("article_uid") or "").strip()
    facts.article_id = uid if uid.isdigit() else None
    facts.url = text_value(data.get("url"))
    return facts
