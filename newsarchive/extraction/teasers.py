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

from newsarchive.extraction.text import squash

#: Words the linked text must have: shorter links ("Read more", a product name) may be prose.
MIN_WORDS = 4
#: A block whose link text is less than this share of its text is prose that contains a link.
_LINKED_SHARE = 0.6
_LABEL = re.compile(r"^\s*(?:[-–—•*·>»]\s*)?(?:[^\W\d_][^:|]{0,29}[:|]\s*)?")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "blockquote", "dd")
#: Squashed link texts shorter than this are not compared (initials, "More", "Video").
_MIN_LINK_CHARS = 12


def _linked(tree: HtmlElement, wanted: set[str]) -> set[str]:
    """Which of the ``wanted`` (squashed) texts are the text of a link that leads away from the
    page and is not a heading, or of a block inside such a link (a story card).

    Only texts of a wanted length are squashed: most links are menu items and cannot match.
    """
    if not wanted:
        return set()
    longest = max(map(len, wanted))
    found = set()
    for link in tree.iter("a"):
        if (link.get("href") or "").startswith("#"):
            continue
        raw = link.text_content()
        if len(raw) < _MIN_LINK_CHARS:
            continue  # nor is any block inside it long enough (most links: menu items)
        for element in (link, *link.iter(*_BLOCKS)) if len(link) else (link,):
            raw = element.text_content() if element is not link else raw
            if not _MIN_LINK_CHARS <= len(raw) <= 3 * longest:
                continue
            text = squash(raw)
            if text in wanted and not any(a.tag in _HEADINGS for a in link.iterancestors()):
                found.add(text)
    return found


def _unlinked_blocks(tree: HtmlElement) -> set[str]:
    """Texts of blocks outside links that are mostly not link text (where the page prints
    prose)."""
    found = set()
    for block in tree.iter(*_BLOCKS):
        text = squash(block.text_content())
        if not text or any(a.tag == "a" for a in block.iterancestors()):
            continue
        linked = sum(len(squash(a.text_content())) for a in block.iter("a"))
        if linked < _LINKED_SHARE * len(text):
            found.add(text)
    return found


def drop_teasers(tree: HtmlElement, paragraphs: list[str]) -> list[str]:
    """``paragraphs`` without the teasers for other pages (see the module docstring)."""
    forms: list[tuple[str, str]] = []  # (whole paragraph, after the label), squashed
    for paragraph in paragraphs:
        rest = _LABEL.sub("", paragraph, count=1)
        long_enough = len(rest.split()) >= MIN_WORDS
        forms.append((squash(paragraph), squash(rest)) if long_enough else ("", ""))
    links = _linked(tree, {form for pair in forms for form in pair if form})
    candidates = {i for i, pair in enumerate(forms) if any(f and f in links for f in pair)}
    if not candidates:
        return paragraphs
    unlinked = _unlinked_blocks(tree)  # only for pages with a candidate: it reads every block
    return [
        paragraph
        for i, paragraph in enumerate(paragraphs)
        if i not in candidates or any(f in unlinked for f in forms[i])
    ]
