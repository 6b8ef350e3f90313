"""Sitemap parsing on the real RFE/RL sitemaps (read in place) and on written edge cases."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from newsarchive.discovery.dates import parse_w3c_datetime
from newsarchive.discovery.pangea import article_id, sitemap_role
from newsarchive.discovery.sitemaps import NotASitemap, iter_sitemap, sniff_kind


def _read(path):
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def test_every_real_news_sitemap_keeps_the_google_news_block(corpora):
    files = sorted((corpora / "rferl" / "sitemaps").glob("*/sitemap_*_news.xml.gz"))
    assert len(files) >= 30
    total = with_title = languages = 0
    for path in files:
        for entry in iter_sitemap(_read(path)):
            total += 1
            assert entry.news is not None, (path, entry.loc)
            assert entry.news.publication_date is not None, (path, entry.loc)
            assert entry.news.publication_date.tzinfo is UTC
            assert entry.news.publication
            with_title += bool(entry.news.title)
            languages += bool(entry.news.language)
    assert total > 500
    assert with_title == total
    assert languages == total


def test_real_news_sitemap_fractional_seconds_and_trailing_space(corpora):
    raw = _read(corpora / "rferl/sitemaps/www.rferl.org/sitemap_8_news.xml.gz").decode()
    entries = list(iter_sitemap(raw.encode()))
    assert entries
    # Every date in the file parses, whatever its number of fractional digits.
    import re

    stamps = re.findall(r"<news:publication_date>([^<]+)<", raw)
    assert len(stamps) == len(entries)
    assert all(parse_w3c_datetime(s) is not None for s in stamps)
    assert {e.news.publication for e in entries} == {"RadioFreeEurope/RadioLiberty"}


def test_real_index_lists_archive_slices_with_seven_digit_lastmod(corpora):
    body = _read(corpora / "rferl/sitemaps/www.rferl.org/sitemap.xml")
    assert sniff_kind(body) == "sitemapindex"
    entries = list(iter_sitemap(body))
    roles = {sitemap_role(e.loc) for e in entries}
    assert {"news", "latest", "archive"} <= roles
    archive = [e for e in entries if sitemap_role(e.loc) == "archive"]
    assert all(e.lastmod is not None for e in archive)
    news = [e for e in entries if sitemap_role(e.loc) == "news"]
    assert news and news[0].lastmod is None


def test_real_latest_sitemaps_have_slugless_and_slugged_articles(corpora):
    body = _read(corpora / "rferl/sitemaps/www.svoboda.org/sitemap_2_latest.xml.gz")
    ids = [article_id(e.loc) for e in iter_sitemap(body)]
    slugless = [e.loc for e in iter_sitemap(body) if e.loc.count("/") == 4 and article_id(e.loc)]
    assert sum(i is not None for i in ids) > 1000
    assert len(slugless) > 1000


def test_real_archive_slice_parses_all_urls(corpora):
    body = _read(corpora / "rferl/sitemaps/www.rferl.org/sitemap_8_10.xml.gz")
    entries = list(iter_sitemap(body))
    assert len(entries) > 19000
    assert all(e.lastmod is not None for e in entries)


def test_real_soft_404_sitemap_is_a_clear_error(corpora):
    body = (corpora / "rferl/sitemaps/pressroom.rferl.org/sitemap.xml").read_bytes()
    with pytest.raises(NotASitemap, match="HTML page"):
        list(iter_sitemap(body))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-05-25T10:55:00Z", datetime(2025, 5, 25, 10, 55, tzinfo=UTC)),
        ("2025-05-25T10:55:00.82Z", datetime(2025, 5, 25, 10, 55, 0, 820000, tzinfo=UTC)),
        ("2025-05-25T11:31:22.587Z", datetime(2025, 5, 25, 11, 31, 22, 587000, tzinfo=UTC)),
        ("2025-04-20T17:38:23.4598287Z", datetime(2025, 4, 20, 17, 38, 23, 459828, tzinfo=UTC)),
        ("2024-04-28T03:00:00-04:00", datetime(2024, 4, 28, 7, 0, tzinfo=UTC)),
        ("2024-04-28 07:00:00Z", datetime(2024, 4, 28, 7, 0, tzinfo=UTC)),
        ("2019-11-18", datetime(2019, 11, 18, tzinfo=UTC)),
        ("0001-01-01 00:00:00Z", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_dates(value, expected):
    assert parse_w3c_datetime(value) == expected


def test_entities_are_never_expanded():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.rferl.org/a/&lol2;/1234567.html</loc></url>
<url><loc>https://www.rferl.org/a/&xxe;/7654321.html</loc></url>
</urlset>"""
    locs = [e.loc for e in iter_sitemap(bomb)]
    assert not any("lollol" in loc or "root:" in loc for loc in locs)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.rferl.org/a/russia-lavrov/24475926.html", "24475926"),
        ("https://www.svoboda.org/a/33423656.html", "33423656"),
        ("https://www.rferl.org/content/sokh-exclave/24877127.html", "24877127"),
        ("https://www.rferl.org/z/644", None),
        ("https://www.rferl.org/p/5893.html", None),
        ("https://www.rferl.org/a/33423656.html?p=2", None),
        ("https://www.rferl.org/amp/slug/33423656.html", None),
        ("https://www.svoboda.org/a/33423710.html", "33423710"),
        ("https://www.rferl.org/a/some-slug/33423580.html", "33423580"),
        ("http://www.rferl.org/content/sokh/24877127.html", "24877127"),
        (None, None),
    ],
)
def test_article_ids(url, expected):
    """The one definition of an RFE/RL (Pangea) article id: discovery, section links and
    extraction all use it."""
    assert article_id(url) == expected


def test_an_article_listed_twice_is_credited_to_the_most_specific_listing():
    from newsarchive.discovery.pangea import source_rank

    ranked = sorted(
        [
            "https://www.rferl.org/api/",
            "https://www.rferl.org/sitemap_8_1.xml.gz",
            "https://www.rferl.org/sitemap_8_latest.xml.gz",
            "https://www.rferl.org/sitemap_8_news.xml.gz",
        ],
        key=source_rank,
    )
    assert [u.rsplit("/", 1)[-1] for u in ranked] == [
        "sitemap_8_news.xml.gz",
        "sitemap_8_latest.xml.gz",
        "sitemap_8_1.xml.gz",
        "",
    ]
