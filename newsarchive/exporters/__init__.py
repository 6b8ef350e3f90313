"""Scrapy item exporters of newsarchive (registered by :mod:`newsarchive.addon`)."""
