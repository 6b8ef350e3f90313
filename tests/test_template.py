"""Site memory: the template rule (share of pages and minimum count), bounded counts, stripping,
and the memory kept across runs in a real state store."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from newsarchive.extraction.notices import mentions_designation, page_lines
from newsarchive.extraction.template import (
    SiteTemplate,
    TemplateRule,
    block_hash,
    page_blocks,
    strip_blocks,
    strip_template,
)
from newsarchive.state.freshness import item_digest
from newsarchive.state.store import StateStore
from newsarchive.state.templates import TemplateMemory

PROMO = "Подпишитесь на наш канал в Telegram, чтобы не пропускать главные новости."


def pages_with(block: str, on: int, of: int) -> list[list[str]]:
    """``of`` pages, each with its own block, ``block`` on the first ``on`` of them."""
    return [[f"own text of page {i}", *([block] if i < on else [])] for i in range(of)]


def learned(pages: list[list[str]], rule: TemplateRule | None = None) -> SiteTemplate:
    template = SiteTemplate(rule or TemplateRule())
    for blocks in pages:
        template.learn(block_hash(b) for b in blocks)
    return template


@pytest.mark.parametrize(
    ("on", "of", "is_template"),
    [
        (2, 2, False),  # every page, but fewer than min_pages=3
        (3, 3, True),
        (3, 12, True),  # 3 >= 0.25 * 12: a quarter of the pages is enough
        (3, 13, False),  # 3 < 0.25 * 13
        (4, 13, True),
        (30, 200, False),  # 15 %: a recurring series line, not the template
        (50, 200, True),
    ],
)
def test_rule_share_of_pages_and_minimum_count(on, of, is_template):
    template = learned(pages_with(PROMO, on, of))
    assert (block_hash(PROMO) in template.blocks()) is is_template
    assert not any(block_hash(f"own text of page {i}") in template.blocks() for i in range(of))


def test_rule_is_configurable_and_checked():
    pages = pages_with(PROMO, 4, 10)
    assert block_hash(PROMO) not in learned(pages, TemplateRule(min_pages=5)).blocks()
    assert block_hash(PROMO) not in learned(pages, TemplateRule(min_share=0.5)).blocks()
    with pytest.raises(ValueError, match="MIN_PAGES"):
        TemplateRule(min_pages=1)
    with pytest.raises(ValueError, match="MIN_SHARE"):
        TemplateRule(min_share=0)


def test_a_block_repeated_on_one_page_counts_once():
    template = learned([[PROMO, PROMO, PROMO], ["a"], ["b"]])
    assert template.counts[block_hash(PROMO)][0] == 1
    assert template.blocks() == frozenset()


def test_counts_stay_bounded_and_keep_the_template():
    """Lossy counting: one-off blocks are forgotten every bucket, recurring ones are kept."""
    rule = TemplateRule(bucket=50)
    template = SiteTemplate(rule)
    for i in range(1000):
        own = [block_hash(f"page {i} paragraph {j}") for j in range(20)]
        template.learn([*own, block_hash(PROMO)] if i % 2 else own)
    assert len(template.counts) <= 20 * 50 + 1
    assert block_hash(PROMO) in template.blocks()
    count, delta = template.counts[block_hash(PROMO)]
    assert count <= 500 <= count + delta + 1000 // 50


def test_strip_long_blocks_anywhere_short_ones_only_as_lines():
    text = f"First paragraph.\n\n{PROMO}\n\nSecond paragraph. {PROMO}\n\nShare\n\nShare this story."
    stripped, changed = strip_blocks(text, [PROMO, "Share"])
    assert stripped == "First paragraph.\n\nSecond paragraph.\n\nShare this story."
    assert changed == 3
    assert strip_blocks(text, []) == (text, 0)


def test_page_blocks_never_offer_a_designation_for_silent_removal():
    text = f"{PROMO}\n\nФонд признан нежелательной организацией в прошлом году.\n\nОбычный абзац."
    blocks = page_blocks(text, mentions_designation)
    assert len(blocks.hashes) == 3
    assert set(blocks.in_text.values()) == {PROMO, "Обычный абзац."}
    everything = frozenset(blocks.hashes)
    assert strip_template(text, blocks, everything)[0] == (
        "Фонд признан нежелательной организацией в прошлом году."
    )


def test_a_page_that_is_all_template_is_a_repeated_article_kept_whole():
    """A site that prints one story under several URLs teaches its paragraphs as template; the
    copies keep their text (a promo box is never most of a page)."""
    story = "\n\n".join(f"Paragraph {i} of the same story, long enough to count." for i in range(4))
    text = f"Headline\n\n{story}"
    blocks = page_blocks(text)
    everything = frozenset(blocks.hashes) - {block_hash("Headline")}
    assert strip_template(text, blocks, everything) == (text, 0)
    # Most of the page but not all: a promo under a short story is still cut out.
    short = f"One short paragraph of news.\n\n{PROMO}"
    blocks = page_blocks(short)
    assert strip_template(short, blocks, frozenset({block_hash(PROMO)}))[0] == (
        "One short paragraph of news."
    )


def test_text_blocks_hash_as_the_pages_lines():
    """A paragraph of the text and the page's line it came from are one block."""
    html = f"<html><body><div><p>{PROMO}</p><p>Short line</p></div></body></html>"
    lines = page_lines(lxml_html.fromstring(html))
    assert page_blocks(f"{PROMO}\n\nShort line").hashes == tuple(
        block_hash(line.text) for line in lines
    )


def test_memory_learns_each_page_once_and_survives_the_run(tmp_path):
    rule = TemplateRule()
    store = StateStore(tmp_path / "state.sqlite")
    memory = TemplateMemory(store, rule, flush_every=2)
    site = "www.sibreal.org"
    for i, blocks in enumerate(pages_with(PROMO, 3, 4)):
        memory.learn(site, f"page-{i}", [block_hash(b) for b in blocks])
    memory.learn(site, "page-0", [block_hash(PROMO)])  # fetched again: not counted again
    assert block_hash(PROMO) in memory.template(site)
    assert memory.template("other.example") == frozenset()
    memory.flush()
    store.close()

    store = StateStore(tmp_path / "state.sqlite")
    again = TemplateMemory(store, rule)
    assert again.template(site) == frozenset({block_hash(PROMO)})
    assert again.learned(site, "page-3") and not again.learned(site, "page-4")
    again.learn(site, "page-1", [block_hash("something else")])
    assert again.pages(site) == 4
    store.close()


def test_memory_without_a_store_learns_for_the_run():
    memory = TemplateMemory(None, TemplateRule())
    for i in range(3):
        template = memory.learn("a.example", str(i), [block_hash(PROMO)])
    assert template == frozenset({block_hash(PROMO)})
    memory.flush()
    assert memory.template_blocks() == 1


def test_memory_keeps_the_template_a_whole_recount_finds():
    """The memory updates a site's template from the page just learned; after every page it
    equals the recount over every counted block, through joins, drops and pruned windows."""
    import random

    rng = random.Random(11)
    rule = TemplateRule(min_pages=3, min_share=0.25, bucket=20)
    memory = TemplateMemory(None, rule)
    recount = SiteTemplate(rule)
    pool = [block_hash(f"block {n}") for n in range(60)]
    seen_joins = seen_drops = 0
    before: frozenset[str] = frozenset()
    for page in range(400):
        # a few recurring blocks that come and go with the page number, plus rare ones
        blocks = [b for n, b in enumerate(pool[:8]) if rng.random() < 0.1 + 0.1 * n * (page < 200)]
        blocks += rng.sample(pool[8:], 3)
        now = memory.learn("a.example", f"page-{page}", blocks)
        recount.learn(blocks)
        assert now == recount.blocks() == memory.template("a.example")
        seen_joins += bool(now - before)
        seen_drops += bool(before - now)
        before = now
    assert seen_joins and seen_drops  # both directions were exercised


def test_how_a_notice_was_recognised_is_no_content_change():
    notice = {"kind": "foreign-agent", "text": "x", "language": "ru", "location": "footer"}
    old = {"text": "a", "legal_notice": notice}
    new = {"text": "a", "legal_notice": {**notice, "source": "template"}}
    assert item_digest(old) == item_digest(new)
    assert item_digest(old) != item_digest({**old, "text": "b"})
