"""Site memory: the text blocks a site prints on many of its pages (its template), learned while
the site is crawled and kept out of the article text.

A single page cannot tell its boilerplate (a promo box, a subscription line, a legal notice) from
its article; a site's pages can: a block that comes back, word for word, on many of them is the
template. A *block* is one line of a page's article text (a paragraph, or a ``<br>``-separated
line of one), normalised as the notice detector normalises (:func:`normalize`) and hashed
(:func:`block_hash`): the same as one text line of the page
(:func:`newsarchive.extraction.text.iter_lines`) when the paragraph is one block of the page.

The rule (:class:`TemplateRule`): a block is template once it was seen on at least ``min_pages``
distinct pages of the site *and* on at least ``min_share`` of the pages learned from so far. Counts
are kept with lossy counting (Manku & Motwani, 2002): every ``bucket`` pages, blocks whose count
cannot reach ``1 / bucket`` of the pages are forgotten, so memory stays bounded however long the
site is crawled, and a count is at most ``pages / bucket`` below the truth.

Nothing here imports Scrapy; the crawl keeps one :class:`SiteTemplate` per site in the state store.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from newsarchive.extraction.scoring import tokens
from newsarchive.extraction.text import clean_space

#: Quote marks and the one each stands for in the matching form, replaced one by one where
#: present: ``str.translate`` with a table looks every character of the text up in it, four
#: times as slow on an article (and the template hashes every line of every page).
_QUOTES = tuple((q, '"') for q in "“”„«»‹›″〝〞＂") + tuple((q, "'") for q in "‘’‚‛ʼ`´")
#: Blocks this short ("Share", "18+") are only removed as whole lines of the text.
SHORT_BLOCK_TOKENS = 8
#: A page whose text is at least this share (in characters) template repeats another page's
#: article (the same story under a second URL or id), not boilerplate: its text is kept whole.
MAX_TEMPLATE_SHARE = 0.8


def normalize(text: str) -> str:
    """The matching form of a text: casefolded, quotes unified, ``ё`` → ``е``, spaces collapsed."""
    text = clean_space(text)
    for quote, plain in _QUOTES:
        if quote in text:
            text = text.replace(quote, plain)
    return text.casefold().replace("ё", "е")


def block_hash(text: str) -> str:
    """The key of a block: 16 hex digits of BLAKE2b over its normalised text."""
    return hash_normalized(normalize(text))


def hash_normalized(normed: str) -> str:
    """:func:`block_hash` of a text already :func:`normalize`-d."""
    return hashlib.blake2b(normed.encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class TemplateRule:
    """When a recurring block is template (see the module docstring)."""

    min_pages: int = 3
    min_share: float = 0.25
    bucket: int = 100
    """Lossy-counting window, in pages: counts are at most ``pages / bucket`` too low."""

    def __post_init__(self) -> None:
        if self.min_pages < 2:
            raise ValueError(
                f"TemplateRule.min_pages={self.min_pages}: a block seen on one page is that "
                "page's own text; use 2 or more (NEWSARCHIVE_TEMPLATE_MIN_PAGES)"
            )
        if not 0 < self.min_share <= 1:
            raise ValueError(
                f"TemplateRule.min_share={self.min_share}: a share of pages, in (0, 1] "
                "(NEWSARCHIVE_TEMPLATE_MIN_SHARE)"
            )

    def is_template(self, count: int, pages: int) -> bool:
        return count >= self.min_pages and count >= self.min_share * pages


@dataclass
class SiteTemplate:
    """What one site's pages have in common, learned page by page."""

    rule: TemplateRule = field(default_factory=TemplateRule)
    pages: int = 0
    counts: dict[str, list[int]] = field(default_factory=dict)
    """Block hash → ``[count, delta]`` (delta: the most its count may be too low)."""

    def learn(self, blocks: Iterable[str]) -> None:
        """Count one page's blocks (each once, however often the page repeats it)."""
        self.pages += 1
        bucket = -(-self.pages // self.rule.bucket)  # the current bucket, 1-based
        for key in set(blocks):
            entry = self.counts.get(key)
            if entry is None:
                self.counts[key] = [1, bucket - 1]
            else:
                entry[0] += 1
        if self.pages % self.rule.bucket == 0:
            self.counts = {k: e for k, e in self.counts.items() if e[0] + e[1] > bucket}

    def blocks(self) -> frozenset[str]:
        """The hashes of the blocks that are template now."""
        rule, pages = self.rule, self.pages
        return frozenset(k for k, (n, _) in self.counts.items() if rule.is_template(n, pages))

    def blocks_after(self, before: frozenset[str], page: Iterable[str]) -> frozenset[str]:
        """:meth:`blocks` right after :meth:`learn` of ``page``, from ``before`` (the blocks
        that were template until then): only the page's blocks gained a count and the share a
        block needs only rose, so nothing else can have joined; cheaper than the recount over
        every counted block (~1 ms a page in the crawl's main process)."""
        rule, pages, counts = self.rule, self.pages, self.counts
        return frozenset(
            key
            for key in before.union(page)
            if (entry := counts.get(key)) is not None and rule.is_template(entry[0], pages)
        )


@dataclass(frozen=True)
class PageBlocks:
    """One page's blocks, as extraction reports them for learning and stripping."""

    hashes: tuple[str, ...]
    """Every block of the page's text, in order (duplicates kept)."""
    in_text: Mapping[str, str] = field(default_factory=dict)
    """Hash → text of the blocks that may be stripped (a block carrying a notice's designation
    is never in it: it is reported as a notice or kept as the article's sentence)."""


def page_blocks(text: str, keep: Callable[[str], object] | None = None) -> PageBlocks:
    """The :class:`PageBlocks` of an article ``text``: its lines, each a block. Only what the
    text holds is learned: a block that never reaches a text need not be known, and hashing the
    text's few lines costs far less than the whole page's. ``keep`` is a test on a block's
    normalised text: true when it must never be stripped."""
    hashes = []
    in_text = {}
    for line in text.split("\n"):
        normed = normalize(line)
        if not normed:
            continue
        key = hash_normalized(normed)
        hashes.append(key)
        if tokens(normed) and not (keep is not None and keep(normed)):
            in_text[key] = line
    return PageBlocks(tuple(hashes), in_text)


def _flexible(paragraph: str) -> re.Pattern[str] | None:
    """A regex for a block that ignores punctuation, quotes, case and line breaks."""
    toks = tokens(paragraph)
    if not toks:
        return None
    body = r"\W*".join(re.escape(t) for t in toks)
    return re.compile(rf"(?:^|(?<=\s))[^\w\s]*{body}[^\w\n]*", re.IGNORECASE)


def strip_blocks(text: str, blocks: Iterable[str]) -> tuple[str, int]:
    """``text`` without ``blocks`` (texts of template blocks), and how many lines changed.

    A long block is cut out wherever the text holds it; a short one only goes when it is a
    whole line, so the same few words inside a sentence of the article stay.
    """
    long_parts, short_parts = [], []
    for block in blocks:
        pattern = _flexible(block)
        if pattern is not None:
            short = len(tokens(block)) < SHORT_BLOCK_TOKENS
            (short_parts if short else long_parts).append(pattern)
    if not text or not (long_parts or short_parts):
        return text, 0
    changed = 0
    kept = []
    for paragraph in text.split("\n\n"):
        lines = []
        for line in paragraph.split("\n"):
            new = line
            for pattern in long_parts:
                new = pattern.sub(" ", new)
            new = re.sub(r" {2,}", " ", new).strip()
            if any(p.fullmatch(new) for p in short_parts):
                new = ""
            changed += new != line.strip()
            if re.search(r"\w", new):
                lines.append(new)
        if lines:
            kept.append("\n".join(lines))
    return "\n\n".join(kept), changed


def strip_template(text: str, page: PageBlocks, template: frozenset[str]) -> tuple[str, int]:
    """The article ``text`` of ``page`` without the blocks of ``template``; lines changed.

    Boilerplate is a small part of a page; when template blocks are most of its text
    (:data:`MAX_TEMPLATE_SHARE`), the page is a copy of an article the site printed before,
    and stripping would leave it empty: it is kept whole.
    """
    blocks = [t for key, t in page.in_text.items() if key in template]
    total = sum(len(line.strip()) for line in text.split("\n"))
    if total and sum(len(b.strip()) for b in blocks) >= MAX_TEMPLATE_SHARE * total:
        return text, 0
    return strip_blocks(text, blocks)
