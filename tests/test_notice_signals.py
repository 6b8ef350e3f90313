"""Notices in wordings the table has never seen, found by their signals in the usual places;
articles that report a designation keep their sentences and get no notice."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from newsarchive.extraction import extract, find_notices
from newsarchive.extraction.notice_signals import load_signals
from newsarchive.extraction.notices import load_config, normalize
from newsarchive.extraction.template import block_hash
from tests.notice_paraphrases import FOREIGN_AGENT_LABELS, REPORTING, plain, sentences
from tests.test_notices import ARTICLE, URL, page

FILLER = {
    "ru": ["Погода в регионе остаётся холодной.", "Местные власти обещают ремонт дорог."],
    "uk": ["Погода в регіоні залишається холодною.", "Місцева влада обіцяє ремонт доріг."],
    "be": ["Надвор'е ў рэгіёне застаецца халодным.", "Мясцовыя ўлады абяцаюць рамонт дарог."],
    "en": ["The weather in the region stays cold.", "Local officials promise road repairs."],
}


def paragraphs(parts: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in parts)


def box(parts: list[str], cls: str) -> str:
    return f'<div class="{cls}"><div class="{cls}__inner">{paragraphs(parts)}</div></div>'


PLACES = {
    "after-body": lambda n: {"after_body": box(n, "c-disclaimer")},
    "footer": lambda n: {"footer": box(n, "footer__note")},
    "top-of-body": lambda n: {"before_wsw": box(n, "c-notice")},
    "top-of-text": lambda n: {"body_first": paragraphs(n)},
    "banner": lambda n: {"header": box(n, "c-banner")},
}
LOCATION = {
    "after-body": "after-body",
    "footer": "footer",
    "top-of-body": "article-body",
    "top-of-text": "article-body",
    "banner": "elsewhere",
}


def signal_page(language: str, **slots: str) -> str:
    """``tests.test_notices.page`` plus a slot before the body's first paragraph."""
    first = slots.pop("body_first", "")
    html = page(language.split("-")[0], **slots)
    return html.replace('<div class="wsw">', f'<div class="wsw">{first}', 1)


def body_of(tree):
    return tree.xpath("//div[@id='article-content']")[0]


def test_paraphrases_are_new_wordings():
    """None of the test wordings is known to the table: only the signals can find them."""
    for language in ("ru", "ru-2", "uk", "be", "en"):
        markup = paragraphs(sentences(language))
        tree = lxml_html.fromstring(signal_page(language, body_extra=markup))
        sources = {n.source for n in find_notices(tree, body_of(tree))}
        assert sources == {"signals"}, language
        normed = normalize(" ".join(plain(language)))
        for pattern in load_config().patterns:
            assert not all(p.search(normed) for p in pattern.all_of)


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("language", ["ru", "ru-2", "uk", "be", "en"])
def test_new_wording_found_by_signals(language, place):
    html = signal_page(language, **PLACES[place](sentences(language)))
    result = extract(html, URL)
    notice = result["legal_notice"]
    assert notice == {
        "kind": "undesirable-organization",
        "text": "\n\n".join(plain(language)),
        "language": language.split("-")[0],
        "location": LOCATION[place],
        "source": "signals",
    }
    assert result["text"] == "\n\n".join(ARTICLE[language.split("-")[0]])


@pytest.mark.parametrize("label", FOREIGN_AGENT_LABELS)
@pytest.mark.parametrize("place", ["after-body", "footer", "top-of-body"])
def test_foreign_agent_label_in_other_layouts(label, place):
    result = extract(signal_page("ru", **PLACES[place]([label])), URL)
    assert [(n["kind"], n["source"], n["text"]) for n in result["legal_notices"]] == [
        ("foreign-agent", "signals", label)
    ]
    assert result["text"] == "\n\n".join(ARTICLE["ru"])


def reporting_body(language: str) -> list[str]:
    """A nine-paragraph article: the reporting paragraphs, the lawyer's quote in the middle."""
    r, f, a = REPORTING[language], FILLER[language], ARTICLE[language]
    return [r[0], r[1], f[0], a[0], r[2], a[1], f[1], r[3], r[4]]


@pytest.mark.parametrize("language", list(REPORTING))
def test_reporting_article_keeps_its_sentences(language):
    body = reporting_body(language)
    html = page(language, body_extra=paragraphs(body))
    result = extract(html, URL)
    assert result["legal_notices"] == []
    for sentence in REPORTING[language]:
        assert sentence in result["text"]


@pytest.mark.parametrize("language", list(REPORTING))
def test_reporting_article_with_its_notice(language):
    html = page(
        language,
        body_extra=paragraphs(reporting_body(language)),
        after_body=box(sentences(language), "c-disclaimer"),
    )
    result = extract(html, URL)
    assert [n["text"] for n in result["legal_notices"]] == ["\n\n".join(plain(language))]
    for sentence in REPORTING[language]:
        assert sentence in result["text"]
    for sentence in plain(language):
        assert normalize(sentence) not in normalize(result["text"])


def test_mid_body_notice_needs_the_template():
    """In the middle of the text a notice is only known once the site's template holds it."""
    language = "ru-2"
    body = [*ARTICLE["ru"], *sentences(language), *FILLER["ru"], *ARTICLE["ru"]]
    html = page("ru", body_extra=paragraphs(body))
    tree = lxml_html.fromstring(html)
    assert find_notices(tree, body_of(tree)) == []
    template = {block_hash(re.sub(r"<[^>]+>", "", s)) for s in sentences(language)}
    found = find_notices(tree, body_of(tree), template=template)
    assert [(n.kind, n.source, n.text) for n in found] == [
        ("undesirable-organization", "template", "\n\n".join(plain(language)))
    ]
    result = extract(html, URL, template=frozenset(template))
    assert result["legal_notice"]["source"] == "template"
    assert all(normalize(s) not in normalize(result["text"]) for s in plain(language))


def test_every_signal_entry_compiles_and_has_both_parts():
    entries = load_signals().entries
    languages = {e.language for e in entries if e.kind == "undesirable-organization"}
    assert {"en", "ru", "uk", "be", "tt", "kk", "ky", "tg", "uz", "tk"} <= languages
    for entry in entries:
        assert entry.designation
        assert entry.warning or entry.kind == "foreign-agent"


@pytest.mark.parametrize("language", list(REPORTING))
def test_short_reporting_article_with_a_quoted_warning(language):
    """Five paragraphs, the lawyer's warning to "you" quoted: reporting, not a notice."""
    result = extract(page(language, body_extra=paragraphs(REPORTING[language])), URL)
    assert result["legal_notices"] == []
    assert result["text"].endswith("\n\n".join(REPORTING[language]))


def test_notice_in_the_middle_of_the_text_is_the_articles():
    """Designation and unquoted warning between the article's paragraphs: not printed before or
    after the text, so without the template it is left as the article's own words."""
    body = [*ARTICLE["ru"], *plain("ru-2")[:2], *FILLER["ru"]]
    result = extract(page("ru", body_extra=paragraphs(body)), URL)
    assert result["legal_notices"] == []
