"""newsarchive: a Scrapy crawl-and-archive pipeline for news (WARC + JSONL)."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``newsarchive.article_page``, imported on first use: the package's core (archive,
    extraction, ...) must stay importable without Scrapy."""
    if name == "article_page":
        from newsarchive.pages import article_page

        return article_page
    raise AttributeError(f"module 'newsarchive' has no attribute {name!r}")
