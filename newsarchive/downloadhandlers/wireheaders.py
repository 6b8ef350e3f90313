"""Scrapy's HTTP/1.1 download handler, with the connection headers Twisted keeps to itself.

Twisted's HTTP client files ``Transfer-Encoding``, ``Content-Length``, ``Connection``,
``Keep-Alive`` and the other "connection control" headers apart from the response headers, and
Scrapy only puts back a ``Content-Length`` computed from the parsed length. Without them a WARC
writer cannot tell that a body arrived chunked, nor what length the server announced. This
handler adds those headers back, as received, so ``response.headers`` is the header block the
server sent; the WARC middleware then renames the ones the stored payload no longer matches.

Scrapy 2.19 has no public hook for this. The private names used are all in this module:
``scrapy.core.downloader.handlers.http11._LenientHTTP11ClientProtocol`` and its factory
(subclassed so Scrapy's lenient header parsing and its IP/certificate capture are kept), the
connection pool's ``_factory`` (set exactly the way Scrapy's own handler sets it), and
``HTTP11ClientProtocol._parser`` (the parser of the request in flight, whose documented
``connHeaders`` attribute holds the headers). :func:`check_scrapy_internals` fails at start-up,
with a message, when a Scrapy or Twisted upgrade moves any of them.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
)
from scrapy.crawler import Crawler
from twisted.web.client import HTTPConnectionPool


def restore_connection_headers(response: Any, parser: Any) -> Any:
    """Copy the parser's connection-control headers into the Twisted response's headers."""
    for name, values in parser.connHeaders.getAllRawHeaders():
        if not response.headers.hasHeader(name):
            response.headers.setRawHeaders(name, list(values))
    return response


class WireHeadersClientProtocol(_LenientHTTP11ClientProtocol):
    """Scrapy's lenient protocol, plus the connection headers on every response."""

    def request(self, request: Any) -> Any:
        deferred = super().request(request)
        # Private: the parser HTTP11ClientProtocol.request() just created for this request.
        parser = getattr(self, "_parser", None)
        if parser is None or not hasattr(parser, "connHeaders"):
            raise RuntimeError(
                "newsarchive's wire-headers download handler cannot reach Twisted's response "
                "parser (HTTP11ClientProtocol._parser.connHeaders): Twisted changed; remove "
                "the DOWNLOAD_HANDLERS entry of newsarchive.downloadhandlers.wireheaders or "
                "update this module"
            )
        deferred.addCallback(restore_connection_headers, parser)
        return deferred


class WireHeadersClientFactory(_LenientHTTP11ClientFactory):
    """Builds :class:`WireHeadersClientProtocol` connections for the pool."""

    def buildProtocol(self, addr: Any) -> WireHeadersClientProtocol:
        return WireHeadersClientProtocol(self._quiescentCallback)


def check_scrapy_internals(pool: Any) -> None:
    """Fail loudly if Scrapy no longer builds its pool the way this module relies on."""
    if not isinstance(pool, HTTPConnectionPool) or pool._factory is not _LenientHTTP11ClientFactory:
        raise RuntimeError(
            "newsarchive's wire-headers download handler expects Scrapy's HTTP/1.1 handler to "
            "use an HTTPConnectionPool with _LenientHTTP11ClientFactory (Scrapy 2.19); this "
            "Scrapy differs: update newsarchive/downloadhandlers/wireheaders.py"
        )


class WireHeadersDownloadHandler(HTTP11DownloadHandler):
    """HTTP/1.1 handler whose responses carry every header the server sent."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        check_scrapy_internals(self._pool)
        self._pool._factory = WireHeadersClientFactory
