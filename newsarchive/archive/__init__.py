"""Scrapy-free WARC archiving: records, a rotating writer, readers."""

from newsarchive.archive.records import HttpExchange
from newsarchive.archive.writer import RecordLocation, RotatingWarcWriter, WarcWriterConfig

__all__ = ["HttpExchange", "RecordLocation", "RotatingWarcWriter", "WarcWriterConfig"]
