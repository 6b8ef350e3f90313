"""Each site's learned template, kept in the state store so the next run starts with it.

:class:`TemplateMemory` holds one :class:`~newsarchive.extraction.template.SiteTemplate` per site,
loaded from the store on first use and written back every ``flush_every`` learned pages and at
the end (a killed run loses at most that many pages' counts, and those pages are learned again
next time: they are marked learned in the same transaction as the counts). Without a store
(state switched off) it learns for this run only. Scrapy-free.
"""

from __future__ import annotations

from collections.abc import Iterable

from newsarchive.extraction.template import PageBlocks, SiteTemplate, TemplateRule, strip_template
from newsarchive.state.redisstore import RedisStateStore
from newsarchive.state.store import StateStore


class TemplateMemory:
    """Site templates of one crawl, learned page by page (see the module docstring)."""

    def __init__(
        self, store: StateStore | RedisStateStore | None, rule: TemplateRule, flush_every: int = 200
    ) -> None:
        self.store = store
        self.rule = rule
        self.flush_every = flush_every
        self._sites: dict[str, SiteTemplate] = {}
        self._current: dict[str, frozenset[str]] = {}
        self._pending: dict[str, set[str]] = {}
        self._learned: set[tuple[str, str]] = set()

    def _site(self, site: str) -> SiteTemplate:
        known = self._sites.get(site)
        if known is None:
            known = self._sites[site] = load_site(self.store, site, self.rule)
            self._current[site] = known.blocks()
        return known

    def template(self, site: str) -> frozenset[str]:
        """The block hashes that are ``site``'s template now."""
        self._site(site)
        return self._current[site]

    def pages(self, site: str) -> int:
        """Pages of ``site`` learned from, over every run."""
        return self._site(site).pages

    def learned(self, site: str, page: str) -> bool:
        """Was this page (an article key) learned from already, in this run or an earlier one?"""
        if (site, page) in self._learned:
            return True
        if self.store is None:
            return False
        return self.store.template_page_learned(site, page)

    def learn(self, site: str, page: str, blocks: Iterable[str]) -> frozenset[str]:
        """Count one page's blocks (once per page key); the site's template after it."""
        template = self._site(site)
        if not self.learned(site, page):
            self._learned.add((site, page))
            blocks = set(blocks)
            template.learn(blocks)
            self._current[site] = template.blocks_after(self._current[site], blocks)
            self._pending.setdefault(site, set()).add(page)
            if sum(len(p) for p in self._pending.values()) >= self.flush_every:
                self.flush()
        return self._current[site]

    def apply(self, site: str, page: str, blocks: PageBlocks, text: str) -> tuple[str, int]:
        """Learn one extracted page (``blocks`` from ``extract(..., template=...)``), then keep
        the blocks that are template now out of its ``text``: the text, and how many blocks
        of it are template. What the crawl's pipeline and ``scrapy reextract`` both do."""
        template = self.learn(site, page, blocks.hashes)
        removed = sum(1 for block in blocks.in_text if block in template)
        return strip_template(text, blocks, template)[0], removed

    def flush(self) -> None:
        """Write every site with pages learned since the last flush to the store."""
        if self.store is not None:
            for site, pages in self._pending.items():
                save_site(self.store, site, self._sites[site], pages)
        self._pending.clear()

    def template_blocks(self) -> int:
        """Template blocks over every site seen so far (a stat)."""
        return sum(len(blocks) for blocks in self._current.values())


def load_site(
    store: StateStore | RedisStateStore | None, site: str, rule: TemplateRule
) -> SiteTemplate:
    """What the store knows of ``site`` (an empty template when nothing, or no store)."""
    template = SiteTemplate(rule)
    if store is None:
        return template
    stored = store.load_template(site)
    if stored is not None:
        template.pages, template.counts = stored
    return template


def save_site(
    store: StateStore | RedisStateStore, site: str, template: SiteTemplate, pages: Iterable[str]
) -> None:
    """Replace the stored counts of ``site`` and mark ``pages`` learned, in one transaction."""
    store.save_template(site, template.pages, template.counts, pages)
