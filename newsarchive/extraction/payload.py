"""An archived HTTP body read as the crawl's Scrapy response read it: bytes and encoding.

``scrapy reextract`` hands its workers the body as archived (still gzip-encoded, for most news
sites): the worker undoes the ``Content-Encoding`` as Scrapy's ``HttpCompressionMiddleware``
did and picks the charset as w3lib's ``html_to_unicode`` did for the crawl's ``TextResponse``.
Done in the worker, the page crosses the pipe a fifth of its size and is inflated and checked
for UTF-8 once, on the core that extracts it, instead of in the one process reading the
archive. Nothing here imports Scrapy.
"""

from __future__ import annotations

import zlib

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom
from zlib_ng import gzip_ng, zlib_ng

from newsarchive.extraction.document import real_encoding, utf8_text

#: What :func:`decode_content` raises for a body its encoding does not decode.
DECODE_ERRORS = (OSError, ValueError, EOFError, zlib.error, zlib_ng.error)


class UndecodableBody(ValueError):
    """The body does not decode as its ``Content-Encoding`` says (the message says why)."""


def decode_content(body: bytes, encoding: str) -> bytes:
    """Undo ``Content-Encoding`` like HttpCompressionMiddleware does (gzip, deflate, br);
    a body that does not decode raises one of :data:`DECODE_ERRORS`."""
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            # Some archivers store the decoded body yet keep the header: take it as it is.
            # zlib-ng inflates a news page in half the standard library's time.
            if body[:2] == b"\x1f\x8b":
                body = gzip_ng.decompress(body)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding == "br":
            import brotli  # Scrapy's own optional dependency for br

            body = brotli.decompress(body)
        elif coding != "identity":
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
    return body


def response_encoding(content_type: str | None, body: bytes) -> str:
    """The encoding ``w3lib.encoding.html_to_unicode`` picks for ``body`` (byte-order mark,
    HTTP header, markup, then UTF-8 or cp1252 if the bytes decode, then UTF-8), as Scrapy's
    ``TextResponse`` did, without decoding the page."""
    bom_encoding, _bom = read_bom(body)
    if bom_encoding is not None:
        return bom_encoding
    encoding = (
        http_content_type_encoding(content_type)
        or html_body_declared_encoding(body)
        or _auto_detect(body)
    )
    if encoding is None:
        return "utf8"
    return f"{encoding}-be" if encoding in {"utf-16", "utf-32"} else encoding


def _auto_detect(body: bytes) -> str | None:
    """What Scrapy's TextResponse tries when nothing declares an encoding."""
    if utf8_text(body) is not None:
        return "utf-8"
    try:
        body.decode("cp1252")
    except UnicodeError:
        return None
    return "cp1252"


def archived_page(body: bytes, content_encoding: str, content_type: str) -> tuple[bytes, str]:
    """The page's bytes and the encoding extraction should read them in (see
    :func:`~newsarchive.extraction.document.real_encoding`); :class:`UndecodableBody` when the
    ``Content-Encoding`` does not decode."""
    try:
        body = decode_content(body, content_encoding)
    except DECODE_ERRORS as exc:
        raise UndecodableBody(f"cannot decode body: {exc}") from None
    return body, real_encoding(body, response_encoding(content_type or None, body))
