"""Links to other articles inside the body ("Read more: ...", "Related: ...") are not its text.

Publishers drop teasers for other stories between the paragraphs: ``Read more: <a>Tencent
profit falls ...</a>``, ``ALSO READ: <a>...</a>``, ``Related: <a>...</a>``, a bulleted ``- <a>...
</a>``, or a card whose whole headline and summary sit inside one link (``<a href="/other">
<h1>...</h1><p>RISK REMAINS: An official said ...</p></a>``). trafilatura keeps them because
they sit in or next to the body container and read like sentences.

The rule: an output paragraph is a teaser when it, or what remains after at most a short
label (a dash or bullet, and/or up to 30 characters ending in ``:`` or ``|``), is exactly the
text of a link to another page or of a block inside such a link, at least :data:`MIN_WORDS`
words long, and the page nowhere prints that text as a mostly unlinked block outside links (a
sub-heading the page also lists in a table of contents stays). Links to the same page
(``href="#..."``) are a table of contents, not teasers.

Measured (4-token-shingle F1, ``python -m newsarchive.eval``): benchmark 0.9735 → 0.9768 (8
pages better, 1 slightly worse: a recipe blog's "Pro tip: Get more meal ideas here!" links,
which its ground truth keeps), fundus 0.9651 → 0.9695 (5 better, none worse; Taipei Times'
related-story cards 0.65 → 0.98; Eyethu News' "FUNDA OLUNYE UDABA LAPHA | <link>" 0.91 →
0.99).
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

#: Words the linked text must have: shorter links ("Read more", a product name) may be prose.
MIN_WORDS = 4
#: A block whose link text is less than this share of its text is prose that contains a link.
_LINKED_SHARE = 0.6
_LABEL = re.compile(r"^\s*(?:[-–—•*·>»]\s*)?(?:[^\W\d_][^:|]{0,29}[:|]\s*)?")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "blockquote", "dd")
#: Squashed link texts shorter than this are not compared (initials, "More", "Video").
_MIN_LINK_CHARS = 12


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


def _link_texts(tree: HtmlElement) -> set[str]:
    """Texts of links that lead away from the page and are not headings, and of the blocks
    inside them (a story card)."""
    found = set()
    for link in tree.iter("a"):
        if (link.get("href") or "").startswith("#"):
            continue
        if any(a.tag in _HEADINGS for a in link.iterancestors()):
            continue
        text = _squash(link.text_content())
        if len(text) >= _MIN_LINK_CHARS:
            found.add(text)
        for block in link.iter(*_BLOCKS):  # a card: headline and summary inside one link
            text = _squash(block.text_content())
            if len(text) >= _MIN_LINK_CHARS:
                found.add(text)
    return found


def _unlinked_blocks(tree: HtmlElement) -> set[str]:
    """Texts of blocks outside links that are mostly not link text (where the page prints
    prose)."""
    found = set()
    for block in tree.iter(*_BLOCKS):
        text = _squash(block.text_content())
        if not text or any(a.tag == "a" for a in block.iterancestors()):
            continue
        linked = sum(len(_squash(a.text_content())) for a in block.iter("a"))
        if linked < _LINKED_SHARE * len(text):
            found.add(text)
    return found


def drop_teasers(tree: HtmlElement, paragraphs: list[str]) -> list[str]:
    """``paragraphs`` without the teasers for other pages (see the module docstring)."""
    links = _link_texts(tree)
    candidates = set()
    for index, paragraph in enumerate(paragraphs):
        rest = _LABEL.sub("", paragraph, count=1)
        if len(rest.split()) >= MIN_WORDS and (
            _squash(rest) in links or _squash(paragraph) in links
        ):
            candidates.add(index)
    if not candidates:
        return paragraphs
    unlinked = _unlinked_blocks(tree)  # only for pages with a candidate: it reads every block
    kept = []
    for index, paragraph in enumerate(paragraphs):
        rest = _squash(_LABEL.sub("", paragraph, count=1))
        if index in candidates and rest not in unlinked and _squash(paragraph) not in unlinked:
            continue
        kept.append(paragraph)
    return kept
