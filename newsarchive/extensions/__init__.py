"""Scrapy components of newsarchive (thin adapters around the Scrapy-free core)."""
