"""The extraction shortcuts change nothing they should not: trafilatura's main extractor alone
when its result holds, and the declared article body alone (``generic.located_text``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from trafilatura import bare_extraction

from newsarchive.eval.corpora import benchmark_pages, fundus_pages
from newsarchive.extraction import generic, pangea
from newsarchive.extraction.document import parse


def _generic_trees(corpora: Path) -> list[tuple[str, object]]:
    found = []
    for page in [*benchmark_pages(corpora), *fundus_pages(corpora)]:
        tree = parse(page.html)
        if tree is not None and not pangea.template(tree):
            found.append((page.url, tree))
    return found


@pytest.mark.slow
def test_main_extractor_alone_gives_what_the_whole_cascade_gives(corpora: Path) -> None:
    trees = _generic_trees(corpora)
    assert len(trees) >= 170
    for url, tree in trees:
        full = bare_extraction(tree, url=url, with_metadata=False, **generic.TRAFILATURA_OPTIONS)
        assert generic.main_text(tree, url) == (full.text if full else ""), url


@pytest.mark.slow
def test_declared_body_alone_mostly_gives_the_whole_page_text(corpora: Path) -> None:
    declared = same = 0
    for url, tree in _generic_trees(corpora):
        if generic._declared_body(tree) is None:
            continue
        declared += 1
        same += generic.located_text(tree, url) == generic.main_text(tree, url)
    assert declared >= 100
    assert same >= declared - 3  # CBS Sports, Landesspiegel, Reuters: docs/quality.md "Speed"


def test_a_declared_body_that_gives_too_little_falls_back_to_the_page() -> None:
    prose = " ".join(["The council voted on the budget after a long debate."] * 12)
    html = (
        "<html><body><div itemprop='articleBody'><p>Short.</p></div>"
        f"<main><p>{prose}</p><p>{prose}</p></main></body></html>"
    )
    tree = parse(html)
    assert generic._declared_body(tree) is not None
    assert generic.located_text(tree, None) == generic.main_text(tree, None)
    assert "council voted" in generic.located_text(tree, None)
