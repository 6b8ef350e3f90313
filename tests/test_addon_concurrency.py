"""The add-on's change to Scrapy's CONCURRENT_ITEMS: lowered from Scrapy's default, never from a
value the user set (see ``newsarchive.addon.CONCURRENT_ITEMS``)."""

from __future__ import annotations

from scrapy.settings import Settings

from newsarchive.addon import CONCURRENT_ITEMS, NewsarchiveAddon


def test_scrapys_default_is_lowered() -> None:
    settings = Settings()
    assert settings.getint("CONCURRENT_ITEMS") == 100  # Scrapy's own default
    NewsarchiveAddon().update_settings(settings)
    assert settings.getint("CONCURRENT_ITEMS") == CONCURRENT_ITEMS < 100


def test_a_value_the_user_set_is_kept() -> None:
    for priority in ("project", "cmdline"):
        settings = Settings()
        settings.set("CONCURRENT_ITEMS", 50, priority=priority)
        NewsarchiveAddon().update_settings(settings)
        assert settings.getint("CONCURRENT_ITEMS") == 50
