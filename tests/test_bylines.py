"""Bylines: splitting, affiliations, organisation credits, microdata, and the publisher rule."""

from __future__ import annotations

from lxml.html import fromstring

from newsarchive.extraction import extract
from newsarchive.extraction.bylines import credit_names, microdata_authors, split_names

BODY = "<p>" + "The council met on Monday and agreed the new budget for the bridge. " * 12 + "</p>"


def page(head: str = "", body: str = "") -> str:
    return (
        '<html lang="en"><head><meta property="og:type" content="article">'
        '<meta property="og:site_name" content="Example Post">'
        f"<title>Budget agreed</title>{head}</head><body><article><h1>Budget agreed</h1>"
        f"{body}{BODY}</article></body></html>"
    )


def jsonld(author: str) -> str:
    return (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Budget agreed",'
        f' "author": {author}, "publisher": {{"@type": "Organization", "name": "Example Post"}}}}'
        "</script>"
    )


def test_affiliation_after_a_name_is_dropped():
    assert split_names("Povla Aleks, professor of law at the University of Somewhere, site.lt") == [
        "Povla Aleks"
    ]
    assert split_names("Ann Lee und Bo Chan, Sweidah") == ["Ann Lee", "Bo Chan", "Sweidah"]


def test_handles_are_kept_as_written():
    assert split_names("srf/hosb;kesm") == ["srf/hosb", "kesm"]


def test_credit_of_site_and_agency_stays_whole_but_people_are_split():
    def is_site(name: str) -> bool:
        return name == "Example Post"

    assert credit_names("Example Post et AFP", is_site) == ["Example Post et AFP"]
    assert credit_names("Ann Lee et AFP", is_site) == ["Ann Lee", "AFP"]
    assert credit_names("Ann Lee et Bo Chan", is_site) == ["Ann Lee", "Bo Chan"]


def test_microdata_author_name_then_rel_author():
    tree = fromstring(
        '<div><p><span itemprop="author" itemscope><span class="x">Autor:</span>'
        '<span itemprop="name">Ann Lee und Bo Chan</span></span></p>'
        '<a rel="author" href="/a/zed">Zed Zed</a></div>'
    )
    assert microdata_authors(tree) == ["Ann Lee", "Bo Chan"]
    tree = fromstring('<div><a rel="author" href="/a/zed">Zed Zed</a></div>')
    assert microdata_authors(tree) == ["Zed Zed"]


def test_extract_reads_microdata_byline_without_jsonld():
    byline = '<p class="ref">News, 15.4.2024; <span itemprop="author">abc/de;fgh</span></p>'
    html = page(body=byline)
    assert extract(html, "https://example.org/a")["authors"] == ["abc/de", "fgh"]


def test_the_site_declared_as_author_is_the_byline_but_never_from_publisher():
    own = page(head=jsonld('{"@type": "Organization", "name": "Example Post"}'))
    assert extract(own, "https://example.org/a")["authors"] == ["Example Post"]
    # only the publisher names the site: no byline
    none = page(head=jsonld("[]"))
    assert extract(none, "https://example.org/a")["authors"] == []
    # a meta author that is just the site name is a CMS default, not a byline
    meta = page(head='<meta name="author" content="Example Post">')
    assert extract(meta, "https://example.org/a")["authors"] == []


def test_site_and_agency_credit_in_jsonld_person():
    html = page(head=jsonld('[{"@type": "Person", "name": "Example Post et AFP"}]'))
    assert extract(html, "https://example.org/a")["authors"] == ["Example Post et AFP"]
    html = page(head=jsonld('[{"@type": "Person", "name": "Ann Lee et AFP"}]'))
    assert extract(html, "https://example.org/a")["authors"] == ["Ann Lee", "AFP"]


def test_an_agency_listed_with_the_reporter_is_in_the_byline_in_its_place():
    reporter_and_agency = jsonld(
        '[{"@type": "Person", "name": "Ann Lee"}, {"@type": "Organization", "name": "SDA"}]'
    )
    assert extract(page(head=reporter_and_agency), "https://example.org/a")["authors"] == [
        "Ann Lee",
        "SDA",
    ]
    agency_first = jsonld(
        '[{"@type": "NewsMediaOrganization", "name": "AFP"},'
        ' {"@type": "Person", "name": "Bo Chan"}]'
    )
    assert extract(page(head=agency_first), "https://example.org/a")["authors"] == [
        "AFP",
        "Bo Chan",
    ]
    # An organisation alone is only a fallback: a microdata byline of a person comes first.
    agency_only = jsonld('{"@type": "Organization", "name": "SDA"}')
    byline = '<p><span itemprop="author">Ann Lee</span></p>'
    html = page(head=agency_only, body=byline)
    assert extract(html, "https://example.org/a")["authors"] == ["Ann Lee"]
