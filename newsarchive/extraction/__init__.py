"""Scrapy-free extraction core: HTML in, ``ArticleItem`` fields out.

``extract()`` and ``is_article()`` are what the pipeline, ``reextract`` and the benchmarks call;
``remove_notice()`` and ``find_notices()`` are exposed for re-processing stored text.
Nothing here imports Scrapy or ``newsarchive.archive``, and importing has no side effects.
"""

from __future__ import annotations

from newsarchive.extraction.extract import FIELDS, extract, is_article
from newsarchive.extraction.notices import Notice, find_notices, remove_notice

__all__ = ["FIELDS", "Notice", "extract", "find_notices", "is_article", "remove_notice"]
