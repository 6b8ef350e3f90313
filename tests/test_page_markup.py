"""The worker's page input: UTF-8 bytes go to the parser as they are, every other body decoded
first, and either way the page is judged exactly as its decoded text would be."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from newsarchive.extraction.bounded import judge
from newsarchive.extraction.document import page_markup, parse
from newsarchive.extraction.metadata import from_jsonld, jsonld_types
from newsarchive.extraction.payload import DECODE_ERRORS, decode_content
from tests.test_reextract import reextract, write_warc

REPO = Path(__file__).resolve().parents[1]
URL = "https://www.rferl.org/a/kyrgyzstan-media-law-parliament-vote/33422970.html"
PAGE = (REPO / "tests" / "site" / URL.removeprefix("https://")).read_bytes()
CYRILLIC = "<html><head><title>Новости</title></head><body><p>Кыргызстан</p></body></html>"


def test_utf8_bytes_are_passed_on_as_they_are():
    assert page_markup(PAGE, "utf-8") is PAGE
    assert page_markup(PAGE, "UTF8") is PAGE
    assert page_markup(PAGE, None) is PAGE


@pytest.mark.parametrize(
    ("body", "encoding", "text"),
    [
        # the transport says cp1251: decoded here, not read as UTF-8 by the parser
        (CYRILLIC.encode("cp1251"), "cp1251", CYRILLIC),
        # declared UTF-8 but not valid UTF-8: replacement characters, as before
        (b"<p>caf\xe9</p>", "utf-8", "<p>caf\ufffd</p>"),
        # UTF-8 bytes whose markup names another charset: the transport's UTF-8 wins
        (
            '<meta charset="windows-1251"><p>Кыргызстан</p>'.encode(),
            "utf-8",
            '<meta charset="windows-1251"><p>Кыргызстан</p>',
        ),
        # a byte-order mark stays in the text, as decoding with the codec keeps it
        (b"\xef\xbb\xbf<p>x</p>", "utf-8", "\ufeff<p>x</p>"),
    ],
)
def test_other_bodies_are_decoded_with_the_transport_encoding(body, encoding, text):
    assert page_markup(body, encoding) == text


def test_an_unknown_encoding_is_an_error_naming_it():
    with pytest.raises(LookupError, match="no-such-charset"):
        page_markup(b"<p>x</p>", "no-such-charset")


@pytest.mark.parametrize("encoding", ["utf-8", "cp1251"])
def test_judging_bytes_equals_judging_the_decoded_text(encoding):
    body = PAGE if encoding == "utf-8" else CYRILLIC.encode("cp1251") * 40
    hints = {"news_title": "A hinted title"}
    from_bytes = judge(body, encoding, URL, hints, frozenset())
    from_text = judge(body.decode(encoding), None, URL, hints, frozenset())
    assert from_bytes.is_article == from_text.is_article
    assert from_bytes.reason == from_text.reason
    assert from_bytes.fields == from_text.fields
    assert parse(PAGE) is not None


def test_jsonld_types_are_the_article_facts_types():
    tree = parse(PAGE)
    assert jsonld_types(tree) == set(from_jsonld(tree).types)
    assert "NewsArticle" in jsonld_types(tree)


def test_a_damaged_gzip_body_raises_a_decode_error():
    body = bytearray(gzip.compress(PAGE))
    body[len(body) // 2 : len(body) // 2 + 40] = bytes(40)
    with pytest.raises(DECODE_ERRORS):
        decode_content(bytes(body), "gzip")
    assert decode_content(gzip.compress(PAGE), "gzip") == PAGE
    assert decode_content(PAGE, "gzip") == PAGE  # stored decoded, header kept: taken as is


def test_reextract_counts_a_damaged_gzip_page_and_goes_on(tmp_path):
    damaged = bytearray(gzip.compress(PAGE))
    damaged[len(damaged) // 2 : len(damaged) // 2 + 40] = bytes(40)
    second = URL.replace("33422970", "33422971")
    gzipped = {URL: [("Content-Encoding", "gzip")]}
    warc = write_warc(tmp_path, [(URL, bytes(damaged)), (second, PAGE)], gzipped)
    out = tmp_path / "items.jsonl"
    proc = reextract(str(warc), "-O", str(out), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "1 articles" in proc.stdout and "1 extraction_failed" in proc.stdout, proc.stdout
    assert f"extraction_failed: {URL}: cannot decode body" in proc.stderr
    assert len(out.read_text().splitlines()) == 1
