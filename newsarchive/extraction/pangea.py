"""The Pangea CMS profile (RFE/RL, VOA and their ~45 language services).

Pangea marks its article parts precisely, so on its pages we read the markup instead of guessing:
the body is ``#article-content > div.wsw`` (the *first* ``div.wsw`` on a fact-check page is the
claim being checked), bylines are the ``links__item`` author links (JSON-LD may only name the
site as an Organization), and the body class says what kind of page it is. The 2013-era ASP.NET
template (``div.zoomMe`` body, ``<br><br>`` paragraphs) is handled too.
"""

from __future__ import annotations

from copy import deepcopy
from functools import cache, lru_cache

from lxml import etree
from lxml.html import HtmlElement

from newsarchive.extraction.dates import parse_english_date, parse_stamp
from newsarchive.extraction.metadata import Facts, clean_author, unique
from newsarchive.extraction.text import clean_space, join_paragraphs, paragraphs

RESPONSIVE = "responsive"
LEGACY = "legacy"


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_BODY = f"//div[@id='article-content']/div[{_has_class('wsw')}]"
_LEGACY_BODY = f"//div[{_has_class('zoomMe')}]"
_TITLE = f"//h1[{_has_class('pg-title')}]"
_DETAILS = f"//div[{_has_class('publishing-details')}]"
_BYLINE_LIST = f"{_DETAILS}//ul[{_has_class('links__list')}]"
_BYLINE_LINKS = f"li[{_has_class('links__item')}]//a[{_has_class('links__item-link')}]"
#: Templates that move the byline out of ``publishing-details`` still link to ``/author/``.
_BYLINE_ELSEWHERE = (
    f"//ul[{_has_class('links__list')}][{_BYLINE_LINKS}[contains(@href, '/author/')]]"
)
_DATE = f"{_DETAILS}//time[@datetime] | //div[{_has_class('published')}]//time[@datetime]"
_CATEGORY = f"//div[{_has_class('category')}]/a"
#: Inside the body: embeds (photos, players, related boxes) and captions are not article text.
_BODY_JUNK = (
    f".//div[{_has_class('wsw__embed')}] | .//*[{_has_class('wsw__related')}]"
    f" | .//*[{_has_class('c-related')}] | .//*[{_has_class('c-mmp')}]"
    f" | .//*[{_has_class('media-pholder')}] | .//figure | .//figcaption"
    f" | .//*[{_has_class('caption')}] | .//*[{_has_class('embedded_content_object')}]"
    f" | .//*[{_has_class('imageCaption')}] | .//*[{_has_class('contentImage')}]"
)
_DATELINE = f"span[{_has_class('dateline')}]"

#: Pangea page types (``body`` class) that are never articles, and why.
NON_ARTICLE_PAGES = {
    "pg-media": "media page",
    "pg-liveblog": "live blog",
    "pg-section": "section page",
    "pg-index": "section page",
    "pg-author": "author page",
    "pg-search": "search page",
}


def body_classes(tree: HtmlElement) -> set[str]:
    """Class tokens of ``<body>``."""
    body = tree.find(".//body")
    return set((body.get("class") or "").split()) if body is not None else set()


def _scripts_mention(tree: HtmlElement, *needles: str) -> bool:
    return bool(_script_with(needles)(tree))


@cache
def _script_with(needles: tuple[str, ...]) -> etree.XPath:
    """A ``<script>`` whose text holds one of the ``needles`` (one C-level scan)."""
    tests = " or ".join(f"contains(., '{needle}')" for needle in needles)
    return etree.XPath(f"//script[{tests}]")


_ON_CDN = etree.XPath(
    "//meta[contains(@content, '//gdb.')] | //link[contains(@href, '/Content/responsive/')]"
)
_BODY_XPATH = etree.XPath(_BODY)
_LEGACY_BODY_XPATH = etree.XPath(_LEGACY_BODY)


def _on_pangea_cdn(tree: HtmlElement) -> bool:
    """Images on a ``gdb.<site>`` host or stylesheets under ``/Content/responsive/``."""
    return bool(_ON_CDN(tree))


@lru_cache(maxsize=4)
def template(tree: HtmlElement) -> str | None:
    """``responsive`` (2016+), ``legacy`` (the ASP.NET era) or None when not a Pangea page.

    ``#article-content > div.wsw`` alone is proof; otherwise two independent signals are needed
    (a ``pg-*`` body class, Pangea's analytics script, its CDN), so an unrelated site that happens
    to use a ``pg-`` class is not judged by Pangea's rules. The script scan, the costliest,
    runs only when it can decide. Cached for the last few trees (``is_article`` and ``extract``
    both ask), like :func:`~newsarchive.extraction.document.parse`.
    """
    if _BODY_XPATH(tree):
        return RESPONSIVE
    body_class = any(c.startswith("pg-") for c in body_classes(tree))
    on_cdn = _on_pangea_cdn(tree)
    if body_class + on_cdn == 2 or (
        body_class + on_cdn == 1
        and _scripts_mention(tree, "pangea_version", "utag_data={entity:", "pangea-cms.com")
    ):
        return RESPONSIVE
    if _LEGACY_BODY_XPATH(tree) and (on_cdn or _scripts_mention(tree, "publicSiteId")):
        return LEGACY
    return None


def body_element(tree: HtmlElement, kind: str | None) -> HtmlElement | None:
    """The article body container of a Pangea page (not copied)."""
    found = tree.xpath(_BODY if kind == RESPONSIVE else _LEGACY_BODY) if kind else []
    return found[0] if found else None


def body_text(tree: HtmlElement, kind: str | None) -> str:
    """Article text: body paragraphs, subheads and lists, without embeds and captions.

    A leading ``span.dateline`` ("AUBURN, Wash. —") is kept as the start of the first paragraph,
    as printed.
    """
    body = body_element(tree, kind)
    if body is None:
        return ""
    body = deepcopy(body)
    for junk in body.xpath(_BODY_JUNK):
        _drop(junk)
    dateline = ""
    for span in body.xpath(_DATELINE):
        dateline = clean_space(span.text_content())
        _drop(span)
        break
    parts = paragraphs(body)
    if dateline and parts:
        parts[0] = f"{dateline} {parts[0]}"
    return join_paragraphs(parts)


def _drop(element: HtmlElement) -> None:
    """Remove an element but keep its tail text (it belongs to the parent)."""
    if element.getparent() is not None:
        element.drop_tree()


def facts(tree: HtmlElement, kind: str | None) -> tuple[Facts, bool]:
    """Facts from Pangea markup, and whether the page has a byline block at all.

    No byline block means no author: the caller must not fall back to JSON-LD's Organization
    (the site itself).
    """
    if kind == LEGACY:
        return _legacy_facts(tree)
    found = Facts()
    title = tree.xpath(_TITLE)
    if title:
        found.title = clean_space(title[0].text_content()) or None
    lists = tree.xpath(_BYLINE_LIST) or tree.xpath(_BYLINE_ELSEWHERE)
    names = []
    for ul in lists:
        for link in ul.xpath(_BYLINE_LINKS):
            name = clean_author(link.text_content()) or clean_author(link.get("title"))
            if name:
                names.append(name)
    found.authors = unique(names)
    for time in tree.xpath(_DATE):
        found.published = parse_stamp(time.get("datetime"))
        if found.published:
            break
    category = tree.xpath(_CATEGORY)
    if category:
        found.section = clean_space(category[0].text_content()) or None
    return found, bool(lists)


def _legacy_facts(tree: HtmlElement) -> tuple[Facts, bool]:
    found = Facts()
    title = tree.xpath("//div[@id='article']//h1")
    if title:
        found.title = clean_space(title[0].text_content()) or None
    authors = tree.xpath(f"//div[{_has_class('author')}]")
    for block in authors:
        spans = block.xpath(".//span")
        names = [clean_author(s.text_content()) for s in spans] or [
            clean_author(block.text_content())
        ]
        found.authors = unique(n for n in names if n)
        break
    for date in tree.xpath(f"//p[{_has_class('article_date')}]"):
        found.published = parse_english_date(clean_space(date.text_content()))
        break
    section = tree.xpath(f"//h2[{_has_class('sitetitle')}]//a")
    if section:
        found.section = clean_space(section[0].text_content()) or None
    return found, bool(authors)


def page_kind(tree: HtmlElement, kind: str | None) -> tuple[bool, str]:
    """Whether a Pangea page is an article, and why not: by ``body`` class, then by its body."""
    classes = body_classes(tree)
    for cls, reason in NON_ARTICLE_PAGES.items():
        if cls in classes:
            return False, reason
    if not body_text(tree, kind).strip():
        return False, "no article body"
    return True, "article"
