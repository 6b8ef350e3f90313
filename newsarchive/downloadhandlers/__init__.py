"""Download handlers: Scrapy's HTTP/1.1 handler with the wire details a WARC needs."""
