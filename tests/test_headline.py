"""The printed headline (microdata) and CJK byline job titles, through ``extract()``."""

from __future__ import annotations

from newsarchive.extraction import extract
from newsarchive.extraction.metadata import clean_author

PAGE = """<html><head><meta property="og:title" content="Eskalation: «Zurückhaltung hat mit den USA
zu tun»"><meta property="og:type" content="article"></head><body><article>
<h1 class="article-title" itemprop="headline"><span class="article-title__overline">Eskalation
im Nahen Osten</span><span class="h-offscreen"> - </span><span class="article-title__text">
«Zurückhaltung hat viel mit den USA zu tun»</span></h1>
<h1>Zurückhaltung USA tun Logo</h1><p>{body}</p></article></body></html>"""


def test_microdata_headline_without_its_kicker():
    html = PAGE.format(body="Text. " * 80)
    assert extract(html, "https://example.ch/a")["title"] == (
        "«Zurückhaltung hat viel mit den USA zu tun»"
    )


def test_unrelated_microdata_headline_is_ignored():
    html = PAGE.replace('itemprop="headline"', "").format(body="Text. " * 80)
    html = html.replace("<article>", '<article><h2 itemprop="headline">Wetter: Sonne</h2>')
    assert extract(html, "https://example.ch/a")["title"] == (
        "Eskalation: «Zurückhaltung hat mit den USA zu tun»"
    )


def test_cjk_reporter_title_is_not_part_of_the_name():
    assert clean_author("신현주 기자") == "신현주"
    assert clean_author("山田太郎 記者") == "山田太郎"
    assert clean_author("Kim Reporter") == "Kim Reporter"
