"""The generic profile for pages without a known template: trafilatura, tuned and tidied.

Settings measured on the article-extraction-benchmark (88 pages, 4-token-shingle F1; see
``tests/test_extraction.py::test_benchmark_f1_not_worse_than_plain_trafilatura``): comments off,
tables kept, precision favoured gives F1 0.969 against 0.955 for trafilatura's defaults (tables off
loses 0.009 of recall; comments off alone 0.961); dropping a first paragraph that repeats the
headline adds 0.0015. On the fundus pages the same settings tie with the defaults (0.943).
The rules added on top of trafilatura, each measured on both corpora: ``docs/quality.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy, deepcopy
from dataclasses import dataclass, field

from lxml import etree
from lxml.html import HtmlElement
from trafilatura import bare_extraction, extract_metadata
from trafilatura.settings import Document, Extractor
from trafilatura.xpaths import BODY_XPATH

from newsarchive.extraction import embedded
from newsarchive.extraction.continued import continue_body
from newsarchive.extraction.dates import Stamp, parse_stamp
from newsarchive.extraction.document import new_element
from newsarchive.extraction.metadata import Facts, split_names, split_tags, unique
from newsarchive.extraction.teasers import drop_teasers
from newsarchive.extraction.text import clean_space, join_paragraphs

#: Classes that hide an element from sight but not from screen readers.
_HIDDEN = re.compile(
    r"(?:^|\s)(?:sr-only|visually-hidden|visuallyhidden|screen-reader-text|screen-reader-only"
    r"|a11y-hidden|offscreen)(?:\s|$)"
)
#: A paragraph that only credits a picture or a source ("Photo: AFP", "Image: Jane Doe / X",
#: "SOURCE: News agencies"): a caption's credit line, not the article's text. Short by rule.
_CREDIT_LINE = re.compile(
    r"(?:photos?|images?|pictures?|photograph|illustration|graphic|credits?|source|foto|fotos"
    r"|bild|bilder|grafik|quelle|crédit|фото|источник)\s*:\s*\S.{0,60}",
    re.I,
)
_CREDIT_MAX_WORDS = 8
#: A main-extractor result this long (characters) skips trafilatura's fallback comparison; the
#: shortest that the comparison left unchanged on the corpora was 369, the longest it replaced 232.
MIN_MAIN_CHARS = 1000
#: Tags that make trafilatura's comparison call jusText on a result (its ``SANITIZED_XPATH``).
_UNCLEAN = (
    ".//aside|.//audio|.//button|.//fencedframe|.//fieldset|.//figure|.//footer|.//iframe"
    "|.//input|.//label|.//link|.//nav|.//noindex|.//noscript|.//object|.//option|.//select"
    "|.//source|.//svg|.//time"
)
TRAFILATURA_OPTIONS = {
    "include_comments": False,
    "include_tables": True,
    "favor_precision": True,
}
#: trafilatura's options as an ``Extractor`` for each mode, built once (building one parses
#: trafilatura's configuration, about 0.3 ms a call); a page gets a copy with its URL.
_EXTRACTORS = {
    fast: Extractor(
        fast=fast,
        comments=TRAFILATURA_OPTIONS["include_comments"],
        tables=TRAFILATURA_OPTIONS["include_tables"],
        precision=TRAFILATURA_OPTIONS["favor_precision"],
        output_format="python",
    )
    for fast in (True, False)
}
_LONG_PARAGRAPHS = etree.XPath("//p[string-length(normalize-space()) >= 80]")
#: Caption markers: ``<figcaption>``, ``itemprop=caption``, a ``caption`` class token, or a class
#: containing one of these.
_CAPTION_CLASSES = ("wp-caption-text", "image-caption", "imageCaption")
_XML_SPACE = re.compile(r"[ \t\r\n]+")


def _options(url: str | None, *, fast: bool) -> Extractor:
    """The options of one ``bare_extraction`` call (without metadata) for the page at ``url``."""
    options = copy(_EXTRACTORS[fast])
    options.url = options.source = url
    return options


def _caption_class(kind: str) -> bool:
    return "caption" in _XML_SPACE.split(kind) or any(c in kind for c in _CAPTION_CLASSES)


@dataclass
class Survey:
    """What one pass over a page's elements finds (a pass costs about as much as one XPath
    scan with a predicate, so everything the generic profile looks for is collected at once)."""

    hidden: list[HtmlElement] = field(default_factory=list)
    """Screen-reader-only elements."""
    captions: list[HtmlElement] = field(default_factory=list)
    bodies: list[HtmlElement] = field(default_factory=list)
    """``itemprop=articleBody`` elements."""
    entries: list[HtmlElement] = field(default_factory=list)
    """WordPress's ``entry-content`` elements."""
    articles: list[HtmlElement] = field(default_factory=list)
    marked: list[HtmlElement] = field(default_factory=list)
    """``itemprop=articleBody`` and ``<article>`` elements, in page order."""
    headlines: list[HtmlElement] = field(default_factory=list)
    """``itemprop=headline`` elements but ``<meta>``."""

    def without(self, gone: set[HtmlElement]) -> Survey:
        """The survey of the same page once the ``gone`` elements are dropped."""
        kept = [[e for e in found if e not in gone] for found in vars(self).values()]
        return Survey(*kept)


def survey(tree: HtmlElement) -> Survey:
    """Screen-reader-only elements, captions and the declared article bodies, in page order.

    Plain substring tests keep the regular expressions for the few classes that can match.
    """
    found = Survey()
    for element in tree.iter(etree.Element):
        kind = element.get("class")
        itemprop = element.get("itemprop")
        tag = element.tag
        caption = tag == "figcaption" or itemprop == "caption"
        if kind:
            if ("only" in kind or "hidden" in kind or "screen" in kind) and _HIDDEN.search(kind):
                found.hidden.append(element)
            if "entry-content" in kind and "entry-content" in _XML_SPACE.split(kind):
                found.entries.append(element)
            caption = caption or ("aption" in kind and _caption_class(kind))
        if caption:
            found.captions.append(element)
        if tag == "article":
            found.articles.append(element)
            found.marked.append(element)
            if itemprop == "articleBody":
                found.bodies.append(element)
        elif itemprop == "articleBody":
            found.bodies.append(element)
            found.marked.append(element)
        if itemprop == "headline" and tag != "meta":
            found.headlines.append(element)
    return found


def _caption_texts(elements: list[HtmlElement]) -> set[str]:
    found = set()
    for element in elements:
        text = clean_space(element.text_content())
        if len(text) > 3:
            found.add(text)
    return found


def body_text(tree: HtmlElement, url: str | None, found: Survey | None = None) -> str:
    """trafilatura's main text, one paragraph per output line: screen-reader-only text,
    captions and credit lines ("Photo: AFP") dropped, a body split into several containers
    read to its end (:mod:`newsarchive.extraction.continued`), teasers for other articles
    dropped (:mod:`newsarchive.extraction.teasers`); for a page whose markup holds (almost) no
    text, the article its scripts carry (:mod:`newsarchive.extraction.embedded`).

    trafilatura copies the tree it is given, so the shared tree stays intact. ``found``: the
    page's :class:`Survey`, when the caller has it.
    """
    text = _markup_text(tree, url, found)
    if len(text.split()) >= embedded.MIN_WORDS:
        return text
    article = embedded.embedded_article(tree)
    if article is None:
        return text
    from_scripts = _markup_text(article, url)
    return from_scripts if len(from_scripts.split()) > len(text.split()) else text


@contextmanager
def _hidden_dropped(found: Survey) -> Iterator[Survey]:
    """The page without its screen-reader-only elements (``sr-only``, ``visually-hidden``,
    ...) while the block runs, then as it was; yields the :class:`Survey` of what is visible.

    A second copy of a headline for assistive technology, "Advertisement", "(opens in a new
    tab)" are not the article's text. Measured: fundus body F1 +0.0012 (The Nation 0.88 → 0.99:
    a hidden copy of each related-story title; Le Figaro), no page worse on either corpus.

    Not a copy of the page (about 1.5 ms; a third of the corpus pages have hidden elements):
    the elements are dropped as ``drop_tree`` does (the tail text joins the previous node) and
    put back with the text afterwards, last first, so the shared tree is exactly restored even
    when the block raises.
    """
    if not found.hidden:
        yield found
        return
    gone = {e for hidden in found.hidden for e in hidden.iter()}
    undo: list[tuple[HtmlElement, int, HtmlElement, HtmlElement, str, str | None]] = []
    try:
        for element in found.hidden:
            parent = element.getparent()
            if parent is None or parent in gone:
                continue  # the root, or inside an element dropped already
            previous = element.getprevious()
            owner, attribute = (parent, "text") if previous is None else (previous, "tail")
            before = getattr(owner, attribute)
            if element.tail:
                setattr(owner, attribute, (before or "") + element.tail)
            index = parent.index(element)
            parent.remove(element)
            undo.append((parent, index, element, owner, attribute, before))
        yield found.without(gone)
    finally:
        for parent, index, element, owner, attribute, before in reversed(undo):
            parent.insert(index, element)
            setattr(owner, attribute, before)


def _is_credit(line: str) -> bool:
    """A picture or source credit on a line of its own (measured: benchmark +0.0001, fundus
    +0.0004 body F1; six pages better, none worse)."""
    return len(line.split()) <= _CREDIT_MAX_WORDS and bool(_CREDIT_LINE.fullmatch(line))


def _declared_body(tree: HtmlElement, found: Survey | None = None) -> HtmlElement | None:
    """The one element the markup names as the article body, if it names exactly one: schema.org
    microdata, WordPress's ``entry-content``, the ``<article>`` element, in that order."""
    found = found or survey(tree)
    for elements in (found.bodies, found.entries, found.articles):
        if len(elements) == 1:
            return elements[0]
    return None


def _likely_body(tree: HtmlElement, found: Survey | None = None) -> HtmlElement | None:
    """The declared body, else the first element trafilatura's own body XPaths point to (the
    container its main extractor would read first)."""
    declared = _declared_body(tree, found)
    if declared is not None:
        return declared
    for expression in BODY_XPATH:
        candidates = expression(tree)
        if candidates:
            return candidates[0]
    return None


def _alone(container: HtmlElement) -> HtmlElement:
    """A document holding a copy of ``container`` and nothing else."""
    root = new_element("html")
    etree.SubElement(root, "body").append(deepcopy(container))
    return root


def located_text(tree: HtmlElement, url: str | None, found: Survey | None = None) -> str:
    """trafilatura's text of the declared article body alone when the page declares one and
    that result passes :func:`_holds` (or is a short article, :func:`_short_article`); else of
    the whole page (:func:`main_text`). ``found``: the page's :class:`Survey`, when known.

    trafilatura's pruning runs over every element it is given (about 40 % of its time), so a
    body of a few hundred elements costs a fraction of a page of thousands.
    """
    container = _likely_body(tree, found)
    if container is not None:
        document = bare_extraction(_alone(container), options=_options(url, fast=True))
        if _holds(document) or _short_article(document, container, tree):
            return getattr(document, "text", None) or ""
    return main_text(tree, url)


def _short_article(document: Document | None, container: HtmlElement, tree: HtmlElement) -> bool:
    """A result too short for :func:`_holds` that is all the page has: made of clean paragraphs,
    and the page's long paragraphs (80+ characters) outside the container add up to at most
    half of those inside. On the corpora the whole page then gave the same text every time
    (6 pages); the pages whose article lay outside a short container (a MacRumors teaser box,
    a Media Indonesia lead) have more long paragraphs outside than in.
    """
    if not _clean_paragraphs(getattr(document, "body", None)):
        return False
    inside = set(container.iter("p"))
    chars = {True: 0, False: 0}
    for paragraph in _LONG_PARAGRAPHS(tree):
        chars[paragraph in inside] += len(paragraph.text_content())
    return chars[True] > 0 and chars[False] <= chars[True] / 2


def main_text(tree: HtmlElement, url: str | None) -> str:
    """trafilatura's text of ``tree``: its main extractor alone (``fast``) when the result
    passes :func:`_holds`, else the whole cascade with the readability/jusText comparison.

    The comparison only replaces a short, empty or paragraph-less result (readability when it
    is twice as long or the own result has no paragraphs, jusText under 250 characters or when
    the result holds boilerplate tags); on the corpora's 177 generic pages every main result of
    :data:`MIN_MAIN_CHARS` or more came out of the comparison unchanged. It costs about 40 % of
    trafilatura's time.
    """
    document = bare_extraction(tree, options=_options(url, fast=True))
    if not _holds(document):
        document = bare_extraction(tree, options=_options(url, fast=False))
    return getattr(document, "text", None) or ""


def _holds(document: Document | None) -> bool:
    """Whether trafilatura's main result needs no second opinion: long enough, made of
    paragraphs rather than tables, and free of the tags that make trafilatura ask jusText."""
    if len(getattr(document, "text", None) or "") < MIN_MAIN_CHARS:
        return False
    return _clean_paragraphs(getattr(document, "body", None))


def _clean_paragraphs(body: HtmlElement | None) -> bool:
    """A result made of paragraphs rather than tables, free of the tags that make trafilatura
    ask jusText."""
    if body is None:
        return False
    paragraphs = len(body.findall(".//p"))
    if not paragraphs or len(body.findall(".//table")) > paragraphs:
        return False
    return not body.xpath(_UNCLEAN)


def _markup_text(tree: HtmlElement, url: str | None, found: Survey | None = None) -> str:
    with _hidden_dropped(found or survey(tree)) as visible:
        return _visible_text(tree, url, visible)


def _visible_text(tree: HtmlElement, url: str | None, found: Survey) -> str:
    raw = located_text(tree, url, found)
    skip = _caption_texts(found.captions)
    lines = [clean_space(line) for line in raw.splitlines()]
    lines = [line for line in lines if line and line not in skip and not _is_credit(line)]
    if not lines:
        return ""
    return join_paragraphs(drop_teasers(tree, continue_body(tree, lines, skip)))


def facts(tree: HtmlElement, url: str | None) -> Facts:
    """trafilatura's own metadata heuristics (title, author, htmldate's date...) as a fallback."""
    document = extract_metadata(tree, default_url=url)
    found = Facts()
    found.title = clean_space(document.title) or None
    found.description = clean_space(document.description) or None
    found.authors = unique(n for a in (document.author or "").split(";") for n in split_names(a))
    stamp: Stamp | None = parse_stamp(document.date)
    found.published = stamp
    found.section = next(iter(document.categories or []), None)
    found.tags = split_tags(document.tags or [])
    found.image = document.image or None
    found.site_name = document.sitename or None
    return found
