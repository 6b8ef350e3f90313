"""``extract()`` and ``is_article()``: one parse, the publisher's declarations first, guesses last.

Field sources, in priority order (the first that says something wins):

* title: on Pangea pages the sources in the order below, site suffix cut; elsewhere every declared
  title in that order, chosen by :func:`newsarchive.extraction.titles.choose_title`.
* description, section: JSON-LD → Pangea markup → meta tags → Pangea ``utag_data`` →
  trafilatura's metadata → discovery hints.
* authors: on Pangea pages the byline block (``links__item`` author links; legacy ``div.author``),
  else utag's ``byline``, else JSON-LD *persons* (legacy pages: then ``meta name=Author``);
  no byline means ``[]``, never the site.
  Elsewhere (:mod:`newsarchive.extraction.bylines`): JSON-LD persons (a site-and-agency credit
  kept whole) → microdata ``itemprop=author`` / ``rel=author`` → JSON-LD organisations declared
  as ``author`` (the site too: a house byline) → meta author that is not the site → trafilatura.
* published, modified: same order, but a date-only value yields to a precise one of the same day.
* image: ``og:image`` first (Pangea's lead image), then JSON-LD.
* text: Pangea body when the page is Pangea, else trafilatura; legal notices removed, then the
  blocks of the site's learned template, when the caller passes one
  (:mod:`newsarchive.extraction.template`).
* accessible_for_free: JSON-LD (article objects, then ``WebPage``) → microdata
  (:mod:`newsarchive.extraction.access`); never guessed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from lxml.html import HtmlElement

import newsarchive
from newsarchive.discovery.pangea import article_id as pangea_article_id
from newsarchive.extraction import generic, pangea
from newsarchive.extraction.bylines import credit_names, microdata_authors
from newsarchive.extraction.dates import Stamp, best_stamp, parse_stamp
from newsarchive.extraction.document import decode, parse
from newsarchive.extraction.headline import headline_text, printed_headline
from newsarchive.extraction.metadata import (
    ARTICLE_TYPES,
    Facts,
    absolute_url,
    from_jsonld,
    from_meta,
    from_utag,
    is_site_name,
    jsonld_objects,
    jsonld_types,
    normalize_language,
    strip_site_suffix,
    text_value,
    unique,
    utag_data,
)
from newsarchive.extraction.notices import (
    any_trigger,
    find_notices,
    remove_notice,
)
from newsarchive.extraction.template import page_blocks, strip_template
from newsarchive.extraction.text import clean_space, iter_lines
from newsarchive.extraction.titles import choose_title

#: Keys of the dict ``extract`` returns (a subset of ``ArticleItem``'s fields).
FIELDS = (
    "title",
    "description",
    "authors",
    "published",
    "modified",
    "language",
    "section",
    "tags",
    "image",
    "canonical_url",
    "article_id",
    "text",
    "legal_notice",
    "legal_notices",
    "accessible_for_free",
    "extractor",
)
#: Non-Pangea pages without article markup need this much prose (lines of 80+ characters).
_MIN_PROSE = 400
_PROSE_LINE = 80


@cache
def extractor_info() -> dict[str, str]:
    """The item's ``extractor`` field: pipeline name and the versions that shaped the text."""
    return {
        "name": "newsarchive",
        "version": f"newsarchive/{newsarchive.__version__} trafilatura/{trafilatura.__version__}",
    }


def _first(*values: Any) -> Any:
    return next((v for v in values if v), None)


def _hint_stamp(value: Any) -> Stamp | None:
    if isinstance(value, datetime):
        value = value.isoformat()
    return parse_stamp(value)


def _from_hints(hints: dict[str, Any]) -> Facts:
    return Facts(
        title=text_value(hints.get("news_title")),
        language=normalize_language(text_value(hints.get("news_language"))),
        published=_hint_stamp(hints.get("news_publication_date")),
        # No ``modified`` from the sitemap lastmod: that dates the sitemap entry, which any
        # template change bumps; ``modified`` is what the page itself states.
        site_name=text_value(hints.get("publication")),
    )


def _body_container(
    tree: HtmlElement, kind: str | None, found: generic.Survey | None
) -> HtmlElement | None:
    """Where the article body lives, for telling a notice's location: Pangea's, else the first
    ``itemprop=articleBody`` or ``<article>`` element (``found``: the generic page's survey)."""
    if kind == pangea.RESPONSIVE:
        first = tree.xpath("//div[@id='article-content']")
        return first[0] if first else None
    if kind == pangea.LEGACY:
        return pangea.body_element(tree, kind)
    return found.marked[0] if found is not None and found.marked else None


def _authors(
    kind: str | None,
    has_byline: bool,
    ranked: list[Facts],
    sites: set[str],
    host: str | None,
    microdata: Callable[[], list[str]],
) -> list[str]:
    """Bylines: see the module docstring. ``ranked`` is jsonld, pangea, meta, utag[, fallback].
    ``microdata`` reads the page's microdata bylines, only when JSON-LD names no one."""
    ld, pg, meta, ut, *rest = ranked

    def not_site(names: list[str]) -> list[str]:
        return [n for n in names if not is_site_name(n, sites, host)]

    if kind:
        if has_byline:
            return pg.authors
        legacy_meta = not_site(meta.authors) if kind == pangea.LEGACY else []
        return ut.authors or not_site(ld.authors) or legacy_meta
    fallback = rest[0].authors if rest else []
    people = unique(
        n for c in ld.credits for n in credit_names(c, lambda v: is_site_name(v, sites, host))
    )
    return (
        people
        or ld.authors
        or microdata()
        or ld.organizations
        or not_site(meta.authors)
        or not_site(fallback)
    )


def _needs_fallback(kind: str | None, ranked: list[Facts]) -> bool:
    """trafilatura's metadata (htmldate is not free) only when the declarations leave a gap."""
    if not _first(*(f.title for f in ranked)) or not _first(*(f.published for f in ranked)):
        return True
    return not kind and not any(f.authors or f.organizations for f in ranked)


def _without_title(text: str, headlines: list[str | None]) -> str:
    """trafilatura often starts with the headline; the item has it in ``title`` already. Any of
    the page's headlines counts (the chosen title, another declared one, a printed ``<h1>``):
    the printed headline may differ from the declared title the item keeps."""
    first, _, rest = text.partition("\n\n")
    if rest and first.casefold() in {clean_space(h).casefold() for h in headlines if h}:
        return rest
    return text


def extract(
    html: str | bytes,
    url: str,
    *,
    hints: dict[str, Any] | None = None,
    template: Collection[str] | None = None,
) -> dict[str, Any]:
    """The ``ArticleItem`` fields a page itself can tell (see the module docstring for sources).

    ``hints`` (``news_title``, ``news_language``, ``news_publication_date``, ``publication``)
    are what discovery already knows; they only fill gaps. ``template``: the block hashes of the
    site's learned template (:class:`~newsarchive.extraction.template.SiteTemplate`); when given
    (even empty), its blocks leave the text, notices are also looked for in them, and the result
    has one more key, ``page_blocks`` (:class:`~newsarchive.extraction.template.PageBlocks`),
    for the caller to learn from.
    """
    hint = _from_hints(hints or {})
    tree = parse(html)
    if tree is None:
        return _fields(_merge([hint]), [], "", [])
    kind = pangea.template(tree)
    pangea_facts, has_byline = pangea.facts(tree, kind) if kind else (Facts(), False)
    ranked = [
        from_jsonld(tree, jsonld_objects(tree)),
        pangea_facts,
        from_meta(tree, url),
        from_utag(utag_data(tree)) if kind else Facts(),
    ]
    if _needs_fallback(kind, ranked):
        ranked.append(generic.facts(tree, url))
    sites = {f.site_name for f in [*ranked, hint] if f.site_name}
    host = urlsplit(url).hostname
    merged = _merge([*ranked, hint])
    _locate(merged, ranked, kind, url)
    declared = [t for f in ranked for t in (f.titles or [f.title])]
    found = None if kind else generic.survey(tree)
    if found is not None:  # Pangea's h1.pg-title is already the printed headline
        hinted = hint.titles or [hint.title]
        chosen = choose_title([*declared, *hinted], sites, host)
        merged.title = printed_headline(tree, chosen, found.headlines)
    else:
        merged.title = strip_site_suffix(merged.title, sites, host)
    merged.tags = [tag for tag in merged.tags if not is_site_name(tag, sites, host)]

    text = pangea.body_text(tree, kind) if kind else ""
    if not text:
        printed = [headline_text(h1) for h1 in tree.iterfind(".//h1")]
        headlines = [merged.title, *declared, *printed]
        text = _without_title(generic.body_text(tree, url, found), headlines)
    notices = find_notices(tree, _body_container(tree, kind, found), template=template or ())
    for notice in notices:
        text = remove_notice(text, notice)
    blocks = None
    if template is not None:
        blocks = page_blocks(text, any_trigger)
        text = strip_template(text, blocks, frozenset(template))[0]
    authors = _authors(kind, has_byline, ranked, sites, host, lambda: microdata_authors(tree))
    fields = _fields(merged, authors, text, [n.as_dict() for n in notices])
    if blocks is not None:
        fields["page_blocks"] = blocks
    return fields


def _merge(ranked: list[Facts]) -> Facts:
    """One :class:`Facts` from sources in priority order (authors, image, URL and id aside)."""
    return Facts(
        title=_first(*(f.title for f in ranked)),
        description=_first(*(f.description for f in ranked)),
        published=best_stamp([f.published for f in ranked]),
        modified=best_stamp([f.modified for f in ranked]),
        language=_first(*(f.language for f in ranked)),
        section=_first(*(f.section for f in ranked)),
        tags=_first(*(f.tags for f in ranked)) or [],
        accessible_for_free=next(
            (f.accessible_for_free for f in ranked if f.accessible_for_free is not None), None
        ),
    )


def _locate(merged: Facts, ranked: list[Facts], kind: str | None, url: str) -> None:
    """Image, canonical URL and Pangea id.

    ``<link rel=canonical>``/``og:url`` come before JSON-LD, whose ``url`` Pangea sometimes
    truncates; ``og:image`` (Pangea's lead image) before JSON-LD's.
    """
    ld, _pangea, meta, ut, *_rest = ranked
    merged.image = _first(meta.image, absolute_url(ld.image, url), *(f.image for f in ranked))
    merged.url = _first(meta.url, absolute_url(ld.url, url), absolute_url(ut.url, url))
    if kind:
        merged.article_id = _first(
            ut.article_id, pangea_article_id(merged.url), pangea_article_id(url)
        )


def _fields(
    facts: Facts, authors: list[str], text: str, notices: list[dict[str, str]]
) -> dict[str, Any]:
    return {
        "title": facts.title,
        "description": facts.description,
        "authors": list(authors),
        "published": facts.published.iso if facts.published else None,
        "modified": facts.modified.iso if facts.modified else None,
        "language": facts.language,
        "section": facts.section,
        "tags": list(facts.tags),
        "image": facts.image,
        "canonical_url": facts.url,
        "article_id": facts.article_id,
        "text": unicodedata.normalize("NFC", text),
        "legal_notice": notices[0] if notices else None,
        "legal_notices": notices,
        "accessible_for_free": facts.accessible_for_free,
        "extractor": dict(extractor_info()),
    }


def _prose_length(tree: HtmlElement) -> int:
    """Characters in sentence-like lines: navigation and teasers are short, article text is not."""
    root = tree.find(".//body")
    lines = iter_lines(root if root is not None else tree)
    return sum(len(line.text) for line in lines if len(line.text) >= _PROSE_LINE)


def is_article(html: str | bytes, url: str) -> tuple[bool, str]:
    """Whether the page is a single article worth extracting, and a short reason.

    Reasons (stable, used as stats keys): ``article``, ``empty document``, ``not html``,
    ``media page``, ``live blog``, ``section page``, ``author page``, ``search page``,
    ``no article body``.
    Pangea pages are judged by ``body`` class and by ``#article-content > div.wsw``; other pages
    by JSON-LD type, ``og:type`` or enough paragraph text.
    """
    tree = parse(html)
    if tree is None:
        return False, "not html" if decode(html).strip() else "empty document"
    kind = pangea.template(tree)
    if kind:
        return pangea.page_kind(tree, kind)
    types = jsonld_types(tree)
    if types & ARTICLE_TYPES:
        return True, "article"
    og_type = next(
        (m.get("content") for m in tree.iterfind(".//meta") if m.get("property") == "og:type"),
        None,
    )
    if (og_type or "").strip().lower() == "article" or tree.find(".//article") is not None:
        return True, "article"
    if _prose_length(tree) >= _MIN_PROSE:
        return True, "article"
    if types & {"VideoObject", "AudioObject"}:
        return False, "media page"
    return False, "no article body"
