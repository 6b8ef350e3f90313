"""Metadata readers: date forms, JSON-LD authors and types, meta tags, Pangea's utag_data."""

from __future__ import annotations

import gzip
import json

import pytest
from lxml import html as lxml_html

from newsarchive.extraction.dates import best_stamp, parse_english_date, parse_stamp
from newsarchive.extraction.metadata import (
    clean_author,
    from_jsonld,
    from_meta,
    from_utag,
    normalize_language,
    split_names,
    strip_site_suffix,
    utag_data,
)


def tree(markup: str):
    return lxml_html.fromstring(f"<html><head>{markup}</head><body><p>x</p></body></html>")


def jsonld(data: object):
    return tree(f'<script type="application/ld+json">{json.dumps(data)}</script>')


# -- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2024-04-28 07:00:00Z", "2024-04-28T07:00:00Z"),  # Pangea JSON-LD: a space, not a T
        ("2024-04-28T03:00:00-04:00", "2024-04-28T07:00:00Z"),  # time[datetime]: local + offset
        ("2019-11-18T20:28:55+00:00", "2019-11-18T20:28:55Z"),
        ("2025-05-25T13:40:00+03:30", "2025-05-25T10:10:00Z"),
        ("2025-05-25T13:40:00+0330", "2025-05-25T10:10:00Z"),
        ("2012-03-05T14:30:00+04:00", "2012-03-05T10:30:00Z"),
        ("2025-05-25T10:55:00Z", "2025-05-25T10:55:00Z"),
        ("2025-05-25T10:55:00.8Z", "2025-05-25T10:55:00Z"),
        ("2025-05-25T10:55:47.12Z", "2025-05-25T10:55:47Z"),
        ("2025-05-25T11:31:22.587Z", "2025-05-25T11:31:22Z"),
        ("2025-04-20T17:38:23.4598287Z", "2025-04-20T17:38:23Z"),  # 7 digits: %f rejects it
        ("2025-04-20 17:38:23.459828", "2025-04-20T17:38:23Z"),  # naive: taken as UTC
        ("2025-01-01T00:30:00+01:00", "2024-12-31T23:30:00Z"),  # crosses the year
        ("2024-04-28T07:00Z", "2024-04-28T07:00:00Z"),
    ],
)
def test_timestamps_normalise_to_utc(value, iso):
    stamp = parse_stamp(value)
    assert stamp is not None
    assert stamp.iso == iso
    assert not stamp.date_only


def test_date_only_is_marked():
    stamp = parse_stamp("2019-11-18")
    assert stamp.iso == "2019-11-18T00:00:00Z"
    assert stamp.date_only


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01 00:00:00Z",
        "0001-01-01",
        "",
        "   ",
        "yesterday",
        "2024-13-01",
        "2024-02-30",
        None,
        7,
    ],
)
def test_sentinels_and_junk_are_not_dates(value):
    assert parse_stamp(value) is None


def test_english_text_date_of_the_legacy_template():
    assert parse_english_date("January 18, 2013").iso == "2013-01-18T00:00:00Z"
    assert parse_english_date("Sept. 3, 2012").iso == "2012-09-03T00:00:00Z"
    assert parse_english_date("18 января 2013") is None


def test_precise_stamp_of_the_same_day_beats_date_only():
    date_only = parse_stamp("2019-11-18")
    precise = parse_stamp("2019-11-18T20:28:55+00:00")
    assert best_stamp([date_only, None, precise]) == precise
    # a precise stamp far from the declared day does not override it
    assert best_stamp([date_only, parse_stamp("2021-01-01T10:00:00Z")]) == date_only
    assert best_stamp([precise, date_only]) == precise
    assert best_stamp([None, None]) is None


# -- JSON-LD -----------------------------------------------------------------------------------


def test_jsonld_author_object_person():
    facts = from_jsonld(
        jsonld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "A B"}})
    )
    assert facts.authors == ["A B"]
    assert facts.organizations == []


def test_jsonld_author_array_keeps_order_and_separates_organisations():
    facts = from_jsonld(
        jsonld(
            {
                "@type": "NewsArticle",
                "author": [
                    {"@type": "Person", "name": "Maria Kessler"},
                    {"@type": "Organization", "name": "RFE/RL's Kazakh Service"},
                    {"@type": "Person", "name": "Pavel  Ostrov"},
                    "Plain String",
                ],
            }
        )
    )
    assert facts.authors == ["Maria Kessler", "Pavel Ostrov", "Plain String"]
    assert facts.organizations == ["RFE/RL's Kazakh Service"]


def test_jsonld_author_organization_only():
    facts = from_jsonld(
        jsonld(
            {"@type": "ClaimReview", "author": {"@type": "Organization", "name": "POLYGRAPH.info"}}
        )
    )
    assert facts.authors == []
    assert facts.organizations == ["POLYGRAPH.info"]


def test_jsonld_graph_and_top_level_array():
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Site"},
            {"@type": ["NewsArticle"], "headline": "In A Graph", "datePublished": "2024-01-02"},
        ],
    }
    assert from_jsonld(jsonld(graph)).title == "In A Graph"
    array = [{"@type": "BreadcrumbList"}, {"@type": "ReportageNewsArticle", "headline": "Listed"}]
    facts = from_jsonld(jsonld(array))
    assert facts.title == "Listed"
    assert facts.types == ["BreadcrumbList", "ReportageNewsArticle"]


def test_jsonld_claimreview_ignores_nested_item_reviewed_dates():
    facts = from_jsonld(
        jsonld(
            {
                "@type": "ClaimReview",
                "headline": "H",
                "itemReviewed": {
                    "@type": "CreativeWork",
                    "datePublished": "2019-11-01",
                    "dateModified": "0001-01-01 00:00:00Z",
                },
                "datePublished": "2019-11-18",
                "dateModified": "2019-11-19 14:42:55Z",
                "inLanguage": "en-Poly",
            }
        )
    )
    assert facts.published.iso == "2019-11-18T00:00:00Z"
    assert facts.published.date_only
    assert facts.modified.iso == "2019-11-19T14:42:55Z"
    assert facts.language == "en"


def test_jsonld_fields_and_entities():
    facts = from_jsonld(
        jsonld(
            {
                "@type": "NewsArticle",
                "headline": "America\u0027s child care crisis ",
                "keywords": "USA, United States, usa",
                "articleSection": ["USA", "Economy"],
                "image": [{"url": "https://gdb.example/a.jpg"}],
                "publisher": {"@type": "NewsMediaOrganization", "name": "VOA"},
                "mainEntityOfPage": {"@id": "https://example.org/a/x/1.html"},
                "description": "Tom &amp; Jerry",
            }
        )
    )
    assert facts.title == "America's child care crisis"
    assert facts.tags == ["USA", "United States"]
    assert facts.section == "USA"
    assert facts.image == "https://gdb.example/a.jpg"
    assert facts.site_name == "VOA"
    assert facts.url == "https://example.org/a/x/1.html"
    assert facts.description == "Tom & Jerry"


def test_broken_jsonld_is_skipped():
    page = tree(
        '<script type="application/ld+json">{"@type": "NewsArticle", broken</script>'
        '<script type="application/ld+json">'
        '<!-- {"@type": "Article", "headline": "Ok"} --></script>'
    )
    assert from_jsonld(page).title == "Ok"


# -- meta tags ---------------------------------------------------------------------------------


def test_opengraph_with_content_before_property():
    page = tree(
        '<meta content="Russia&#39;s Lavrov Says " property="og:title" />'
        '<meta content="https://gdb.rferl.org/x.jpg" property="og:image" />'
        '<meta content="RadioFreeEurope/RadioLiberty" property="og:site_name" />'
        '<meta content="https://www.rferl.org/a/x/24475926.html" property="og:url" />'
        '<meta content="A description" name="description" />'
    )
    facts = from_meta(page, "https://www.rferl.org/a/x/24475926.html")
    assert facts.title == "Russia's Lavrov Says"
    assert facts.image == "https://gdb.rferl.org/x.jpg"
    assert facts.site_name == "RadioFreeEurope/RadioLiberty"
    assert facts.url == "https://www.rferl.org/a/x/24475926.html"
    assert facts.description == "A description"


def test_keywords_news_keywords_first_and_site_name_is_not_a_tag():
    page = tree(
        '<meta name="keywords" content="POLYGRAPH.info">'
        '<meta content="POLYGRAPH.info" property="og:site_name">'
    )
    assert from_meta(page).tags == []
    page = tree('<meta name="news_keywords" content="a, b"><meta name="keywords" content="c">')
    assert from_meta(page).tags == ["a", "b"]
    page = tree(
        '<meta property="article:tag" content="x"><meta property="article:tag" content="y">'
    )
    assert from_meta(page).tags == ["x", "y"]


def test_canonical_absolute_root_relative_and_save_page_artefact():
    url = "http://www.rferl.org/content/sokh/24877127.html"
    saved = tree(
        '<link href="./rferl_files/rferl.html" rel="canonical">'
        f'<meta property="og:url" content="{url}">'
    )
    assert from_meta(saved, url).url == url
    rooted = tree('<link rel="canonical" href="/a/slug/123456.html">')
    assert from_meta(rooted, "https://www.svoboda.org/a/123456.html").url == (
        "https://www.svoboda.org/a/slug/123456.html"
    )


def test_html_lang_before_og_locale():
    page = lxml_html.fromstring(
        '<html lang="fa-IR"><head><meta property="og:locale" content="en_US"></head></html>'
    )
    assert from_meta(page).language == "fa-IR"
    page = tree('<meta property="og:locale" content="ru_RU">')
    assert from_meta(page).language == "ru-RU"


def test_meta_author_with_double_space_and_site_suffix():
    page = tree('<meta name="Author" content="Daisy  Sindelar - RFE/RL">')
    assert from_meta(page).authors == ["Daisy Sindelar"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en-US", "en-US"),
        ("en_us", "en-US"),
        ("EN", "en"),
        ("en-Poly", "en"),
        ("fa-AF", "fa-AF"),
        ("sr-latn-rs", "sr-Latn-RS"),
        ("uz-Cyrl", "uz-Cyrl"),
        ("es-419", "es-419"),
        ("tat", "tat"),
        ("", None),
        ("English", None),
        (None, None),
    ],
)
def test_language_tags(value, expected):
    assert normalize_language(value) == expected


def test_author_names():
    assert clean_author("By  Daisy  Sindelar - RFE/RL") == "Daisy Sindelar"
    assert clean_author("https://example.org/author/x") is None
    assert clean_author("Elena Oberholzer (obe)") == "Elena Oberholzer"
    assert split_names("Mamokete Modiba, Claire Benit-Gbaffou and Tanya Zack") == [
        "Mamokete Modiba",
        "Claire Benit-Gbaffou",
        "Tanya Zack",
    ]
    # a name plus an affiliation is one person: the affiliation is not part of the name
    assert split_names("Jane Doe, professor of history at the University of Somewhere") == [
        "Jane Doe"
    ]


def test_site_suffix_is_stripped_from_titles_only_when_it_is_the_site():
    sites = {"the namibian"}
    assert strip_site_suffix("Pipeline flagged - The Namibian", sites, "namibian.com.na") == (
        "Pipeline flagged"
    )
    assert strip_site_suffix("EU deal sealed - Landesspiegel", set(), "www.landesspiegel.de") == (
        "EU deal sealed"
    )
    assert strip_site_suffix("Putin - Trump talks - Analysis", sites, "example.com") == (
        "Putin - Trump talks - Analysis"
    )


# -- utag_data ---------------------------------------------------------------------------------

UTAG = """
var utag_data={entity:"RFE",pangea_version:"8.34.0.0.291",language:"English",
page_title:"Russia\\u0026#39;s Lavrov Says ",pub_year:"2012",pub_month:"02",pub_day:"07",
pub_hour:"14",pub_minute:"12",pub_weekday:"Tuesday",dateline:"",
byline:"Anna Lebedeva, Rustem Hayrullin",categories:"syria",
tags:"syria;russia;sergei lavrov;bashar al-assad",section:"syria",article_uid:"24475926"};
if(typeof(TealiumTagFrom)==='function') { utag_data["from"]=TealiumTagFrom(); }
"""


def test_utag_data_parsing():
    data = utag_data(tree(f"<script>{UTAG}</script>"))
    assert data["pangea_version"] == "8.34.0.0.291"
    assert data["page_title"] == "Russia's Lavrov Says "
    facts = from_utag(data)
    assert facts.title == "Russia's Lavrov Says"
    assert facts.authors == ["Anna Lebedeva", "Rustem Hayrullin"]
    assert facts.published.iso == "2012-02-07T14:12:00Z"  # pub_* are UTC
    assert facts.tags == ["syria", "russia", "sergei lavrov", "bashar al-assad"]
    assert facts.article_id == "24475926"
    assert facts.section == "syria"


def test_utag_without_byline_or_date():
    facts = from_utag(utag_data(tree('<script>utag_data={byline:"",pub_year:""};</script>')))
    assert facts.authors == []
    assert facts.published is None
    assert from_utag({}).article_id is None


# -- the real Pangea pages (read in place from the corpus) --------------------------------------


def _corpus_tree(corpora, name):
    data = gzip.decompress((corpora / "rferl" / "pangea-pages" / name).read_bytes())
    return lxml_html.fromstring(data)


def test_real_voa_declarations(corpora):
    page = _corpus_tree(corpora, "voanews.com_7585813_2024-04-28.html.gz")
    ld = from_jsonld(page)
    assert ld.authors == ["Associated Press"]
    assert ld.published.iso == "2024-04-28T07:00:00Z"
    assert ld.language == "en-US"
    utag = from_utag(utag_data(page))
    assert utag.article_id == "7585813"
    assert utag.published.iso == "2024-04-28T07:00:00Z"
    assert utag.authors == ["Associated Press"]
    meta = from_meta(page, "https://www.voanews.com/a/x/7585813.html")
    assert meta.title == "America's child care crisis is holding back moms without college degrees"
    assert meta.tags == ["USA", "United States"]


def test_real_polygraph_claimreview(corpora):
    page = _corpus_tree(corpora, "polygraph.info_30279001_2019-11-18.html.gz")
    ld = from_jsonld(page)
    assert "ClaimReview" in ld.types
    assert ld.published.date_only and ld.published.day == "2019-11-18"
    assert ld.modified.iso == "2019-11-19T14:42:55Z"  # not the itemReviewed sentinel
    assert ld.authors == [] and ld.organizations == ["POLYGRAPH.info"]
    assert from_utag(utag_data(page)).authors == []
