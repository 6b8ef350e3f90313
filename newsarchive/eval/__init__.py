"""Extraction quality, measured: our pipeline next to plain trafilatura on real corpora.

``python -m newsarchive.eval [--corpora DIR]`` reads the third-party corpora in place (never
copied), runs :func:`newsarchive.extraction.extract` and trafilatura with its default settings on
the same pages, and prints one table: body precision/recall/F1 on the article-extraction-benchmark,
title/authors/date/body on the fundus parser test data, every field of the Pangea pages.
``bench/quality.py`` runs the same harness and holds the results to pinned floors.
Scrapy-free, like the extraction core it measures.
"""

from __future__ import annotations

from newsarchive.eval.harness import Report, evaluate, format_table

__all__ = ["Report", "evaluate", "format_table"]
