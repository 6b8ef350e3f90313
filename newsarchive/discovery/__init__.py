"""Scrapy-free discovery: sitemaps, feeds and Pangea URL shapes."""
