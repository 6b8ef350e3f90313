"""Scrapy project settings for newsarchive (polite defaults for archival crawling).

newsarchive's own settings and their defaults live in :mod:`newsarchive.default_settings`.
"""

from newsarchive.default_settings import *  # noqa: F403 - the project exposes every default

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["newsarchive.spiders"]
NEWSPIDER_MODULE = "newsarchive.spiders"
COMMANDS_MODULE = "newsarchive.commands"

ADDONS = {"newsarchive.addon.NewsarchiveAddon": 0}

# Politeness: obey robots.txt, identify ourselves, stay slow on any one host.
ROBOTSTXT_OBEY = True
# USER_AGENT is composed by the add-on from NEWSARCHIVE_CONTACT unless you set it.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
COOKIES_ENABLED = False

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
