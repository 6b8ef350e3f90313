"""newsarchive: a Scrapy crawl-and-archive pipeline for news (WARC + JSONL)."""

__version__ = "0.1.0"
