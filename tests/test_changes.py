"""The ``changes`` summary of a new version and the word diff ``scrapy history`` prints."""

from __future__ import annotations

from newsarchive.changes import COMPARED_FIELDS, fingerprint, summarize
from newsarchive.worddiff import changed, render_html, render_text, word_diff

BEFORE = {
    "article_id": "1",
    "site": "www.example.org",
    "title": "Minister resigns",
    "authors": ["A. Writer"],
    "published": "2026-01-01T12:00:00Z",
    "text": "First paragraph.\n\nSecond paragraph says this.\n\nThird one.",
}


def test_unchanged_item_has_no_changed_field():
    assert summarize(fingerprint(BEFORE), dict(BEFORE)) == {
        "fields": [],
        "text": None,
        "restored": False,
    }


def test_title_and_text_changes_are_named_and_counted():
    after = {
        **BEFORE,
        "title": "Minister resigns after protests",
        "text": "First paragraph.\n\nSecond paragraph says that.\n\nThird one.\n\nUpdate: more.",
    }
    changes = summarize(fingerprint(BEFORE), after)
    assert changes["fields"] == ["title", "text"]
    assert changes["text"] == {
        "paragraphs_added": 1,
        "paragraphs_removed": 0,
        "paragraphs_changed": 1,
        "chars_before": len(BEFORE["text"]),
        "chars_after": len(after["text"]),
    }


def test_removed_paragraph_and_other_fields():
    after = {
        **BEFORE,
        "authors": ["A. Writer", "B. Editor"],
        "text": "First paragraph.\n\nThird one.",
    }
    changes = summarize(fingerprint(BEFORE), after, restored=True)
    assert changes["fields"] == ["authors", "text"]
    assert changes["text"]["paragraphs_removed"] == 1
    assert changes["text"]["paragraphs_added"] == changes["text"]["paragraphs_changed"] == 0
    assert changes["restored"] is True


def test_unknown_previous_fingerprint_says_nothing():
    assert summarize(None, BEFORE) is None
    assert summarize({"v": 0}, BEFORE) is None


def test_fingerprint_is_small_and_covers_the_compared_fields():
    fp = fingerprint(BEFORE)
    assert set(fp["fields"]) == set(COMPARED_FIELDS)
    assert "article_id" not in fp["fields"] and len(fp["paragraphs"]) == 3


def test_word_diff_marks_inserted_and_deleted_words():
    spans = word_diff("The minister said on Monday.", "The prime minister said on Tuesday.")
    assert changed(spans)
    assert render_text(spans) == "The {+prime+} minister said on [-Monday.-] {+Tuesday.+}"
    assert [s.text.strip() for s in spans if s.kind == "delete"] == ["Monday."]
    assert not changed(word_diff("a  b\n\nc", "a b\n\nc"))  # whitespace only


def test_word_diff_context_and_html():
    old = " ".join(f"w{n}" for n in range(40))
    new = old.replace("w20", "W20")
    text = render_text(word_diff(old, new), context=3)
    assert text == "... w17 w18 w19 [-w20-] {+W20+} w21 w22 w23 ..."
    html = render_html(word_diff("a <b>\n\nc", "a <i>\n\nc"))
    assert html == "<p>a <del>&lt;b&gt;</del><ins>&lt;i&gt;</ins></p><p>c</p>"
