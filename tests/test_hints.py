"""Where an article was found: the one merge the spiders and ``scrapy reextract`` share."""

from __future__ import annotations

from newsarchive.discovery.hints import merge_listing, with_first_source
from newsarchive.discovery.sitemaps import SitemapEntry

ARTICLE = "https://www.rferl.org/a/some-story/33423580.html"
NEWS = "https://www.rferl.org/sitemap_8_news.xml.gz"
LATEST = "https://www.rferl.org/sitemap_8_latest.xml.gz"
SECTION = "https://www.rferl.org/z/644"
HOME = "https://www.rferl.org/"


def crawl_order(*sources: str) -> str:
    """``discovered_from`` after the crawl met the article at ``sources``, in that order."""
    hints = None
    for source in sources:
        hints = merge_listing(hints, source, SitemapEntry(loc=ARTICLE))
    return hints["discovered_from"]


def rebuilt(listings: list[str], referer: str) -> str:
    """What reextract says from the archived listings (file order) and the request's Referer."""
    hints = None
    for source in listings:
        hints = merge_listing(hints, source, SitemapEntry(loc=ARTICLE))
    return with_first_source(hints, referer)["discovered_from"]


def test_a_more_specific_listing_wins_whatever_the_order():
    assert crawl_order(LATEST, NEWS) == crawl_order(NEWS, LATEST) == NEWS
    assert crawl_order(SECTION, LATEST) == LATEST


def test_on_a_tie_the_first_source_stays():
    assert crawl_order(SECTION, HOME) == SECTION
    assert crawl_order(HOME, SECTION) == HOME


def test_reextract_makes_the_crawls_choice_from_the_referer():
    """The request's Referer is the first source; the listings say what else named it."""
    cases = [
        ([NEWS, LATEST], NEWS, []),  # listed twice, found in _news first
        ([LATEST, NEWS], LATEST, [NEWS]),  # found in _latest first: _news still wins
        ([SECTION], SECTION, []),  # only on a section page: no archived listing names it
        ([HOME, LATEST], HOME, [LATEST]),  # a link first, then a listing: the listing
    ]
    for order, referer, listings in cases:
        assert rebuilt(listings, referer) == crawl_order(*order), order


def test_the_news_fields_of_the_listings_are_kept():
    entry = SitemapEntry(loc=ARTICLE)
    hints = merge_listing(None, LATEST, entry)
    hints["news_title"] = "Title"
    credited = with_first_source(hints, NEWS)
    assert credited == {"discovered_from": NEWS, "news_title": "Title"}
    assert hints["discovered_from"] == LATEST  # the listings' own dict is not changed
