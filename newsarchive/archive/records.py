"""Turn one HTTP exchange into honest warcio records.

Scrapy hides parts of the wire (it de-chunks bodies and drops connection-level headers); this
module restores what can be known so that the stored bytes and the stored headers agree, which is
what ``warcio check``, pywb and any WARC reader rely on.
"""

from __future__ import annotations

import http
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from urllib.parse import urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime

#: Headers that describe the transfer, not the payload: if the stored bytes no longer match
#: them, they are kept under this prefix (as Browsertrix and StormCrawler do).
RENAMED_HEADER_PREFIX = "X-Crawler-"
#: Start of every metadata record's ``WARC-Target-URI`` (see :func:`metadata_target_uri`).
METADATA_PREFIX = "metadata://newsarchive/"


@dataclass(frozen=True)
class HttpExchange:
    """One request and its response as seen on the wire (payload before content decoding)."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    response_headers: list[tuple[str, str]]
    payload: bytes
    request_body: bytes = b""
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: True when the server used chunked transfer coding (the stored payload is de-chunked).
    was_chunked: bool = False


def reason_phrase(status: int) -> str:
    """The standard reason phrase (Scrapy does not expose the one the server sent)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def request_target(url: str) -> str:
    """Origin-form request target (path plus query), as sent to an origin server."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target


def fix_transfer_headers(
    headers: list[tuple[str, str]], payload_length: int, was_chunked: bool
) -> list[tuple[str, str]]:
    """Make the length headers true for the stored payload; rename the ones that no longer are."""
    fixed: list[tuple[str, str]] = []
    for name, value in headers:
        lname = name.lower()
        if lname == "transfer-encoding" or (
            lname == "content-length" and value.strip() != str(payload_length)
        ):
            fixed.append((RENAMED_HEADER_PREFIX + name, value))
        else:
            fixed.append((name, value))
    if was_chunked and not any(n.lower() == "x-crawler-transfer-encoding" for n, _ in fixed):
        fixed.append((RENAMED_HEADER_PREFIX + "Transfer-Encoding", "chunked"))
    if not any(n.lower() == "content-length" for n, _ in fixed):
        fixed.append(("Content-Length", str(payload_length)))
    return fixed


def warc_date(moment: datetime) -> str:
    """WARC-Date with microseconds (WARC/1.1 allows sub-second precision)."""
    return datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True)


def parse_warc_date(value: str | None) -> datetime | None:
    """A WARC-Date as an aware UTC datetime (:func:`warc_date` read back); None when absent or
    unparseable (ClueWeb has both)."""
    if not value:
        return None
    try:
        return iso_date_to_datetime(value.strip()).replace(tzinfo=UTC)
    except ValueError:
        return None


def build_response_record(builder: RecordBuilder, ex: HttpExchange, *, extra: dict | None = None):
    """A ``response`` record whose HTTP headers and stored payload agree."""
    headers = fix_transfer_headers(ex.response_headers, len(ex.payload), ex.was_chunked)
    status_line = f"{ex.status} {reason_phrase(ex.status)}"
    http_headers = StatusAndHeaders(status_line, headers, protocol=ex.protocol)
    warc_headers = {"WARC-Date": warc_date(ex.fetched_at)}
    if ex.ip_address:
        warc_headers["WARC-IP-Address"] = ex.ip_address
    warc_headers.update(extra or {})
    return builder.create_warc_record(
        ex.url,
        "response",
        payload=BytesIO(ex.payload),
        length=len(ex.payload),
        http_headers=http_headers,
        warc_headers_dict=warc_headers,
    )


def build_request_record(builder: RecordBuilder, ex: HttpExchange, concurrent_to: str):
    """A ``request`` record with the full request line and the headers actually sent."""
    # warcio takes the verb from the front of the line, so the HTTP version goes at its end.
    line = f"{ex.method} {request_target(ex.url)} {ex.protocol}"
    headers = list(ex.request_headers)
    if not any(n.lower() == "host" for n, _ in headers):
        from urllib.parse import urlsplit

        headers.insert(0, ("Host", urlsplit(ex.url).netloc))
    http_headers = StatusAndHeaders(line, headers, is_http_request=True)
    return builder.create_warc_record(
        ex.url,
        "request",
        payload=BytesIO(ex.request_body),
        length=len(ex.request_body),
        http_headers=http_headers,
        warc_headers_dict={
            "WARC-Date": warc_date(ex.fetched_at),
            "WARC-Concurrent-To": concurrent_to,
        },
    )


def build_revisit_record(
    builder: RecordBuilder,
    ex: HttpExchange,
    *,
    payload_digest: str,
    refers_to_uri: str,
    refers_to_date: str,
    refers_to_id: str,
):
    """An identical-payload-digest ``revisit``: headers only, pointing at the stored original."""
    headers = fix_transfer_headers(ex.response_headers, len(ex.payload), ex.was_chunked)
    http_headers = StatusAndHeaders(
        f"{ex.status} {reason_phrase(ex.status)}", headers, protocol=ex.protocol
    )
    extra = {"WARC-Date": warc_date(ex.fetched_at), "WARC-Refers-To": refers_to_id}
    if ex.ip_address:
        extra["WARC-IP-Address"] = ex.ip_address
    return builder.create_revisit_record(
        ex.url,
        digest=payload_digest,
        refers_to_uri=refers_to_uri,
        refers_to_date=refers_to_date,
        http_headers=http_headers,
        warc_headers_dict=extra,
    )


#: WARC/1.1 revisit profile of a 304 answer to a conditional request.
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def build_not_modified_record(
    builder: RecordBuilder,
    ex: HttpExchange,
    *,
    refers_to_uri: str,
    refers_to_date: str,
    refers_to_id: str,
    payload_digest: str | None = None,
):
    """A server-not-modified ``revisit`` for a 304: the 304's headers, pointing at the stored
    full response the conditional request was based on (possibly from an earlier run)."""
    headers = fix_transfer_headers(ex.response_headers, len(ex.payload), ex.was_chunked)
    http_headers = StatusAndHeaders(
        f"{ex.status} {reason_phrase(ex.status)}", headers, protocol=ex.protocol
    )
    extra = {
        "WARC-Date": warc_date(ex.fetched_at),
        "WARC-Profile": NOT_MODIFIED_PROFILE,
        "WARC-Refers-To": refers_to_id,
        "WARC-Refers-To-Target-URI": refers_to_uri,
        "WARC-Refers-To-Date": refers_to_date,
    }
    if payload_digest:
        extra["WARC-Payload-Digest"] = payload_digest
    if ex.ip_address:
        extra["WARC-IP-Address"] = ex.ip_address
    return builder.create_warc_record(
        ex.url, "revisit", http_headers=http_headers, warc_headers_dict=extra
    )


def metadata_target_uri(url: str) -> str:
    """``metadata://newsarchive/<host>/<path>``: the target URI of the metadata record of ``url``.

    Not the page's own URL: replay tools (pywb) would serve the item JSON in its place. Nor
    ``metadata://<host>/<path>``: SURT, the index key of pywb and every CDX(J) indexer, drops the
    scheme, so that still files the record under the page's key, and pywb serves it whenever it
    is the newer capture. Like Heritrix/NetarchiveSuite (``metadata://netarkivet.dk/crawl/...``)
    the authority is the archiver; the page URL itself is in ``WARC-Refers-To-Target-URI``.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{METADATA_PREFIX}{host}{parts.path or '/'}{query}"


def build_metadata_record(
    builder: RecordBuilder, url: str, refers_to: str, body: bytes, content_type: str
):
    """A ``metadata`` record holding what we extracted from the response it refers to.

    It is linked to that response by record id (``WARC-Refers-To``) and by the page URL
    (``WARC-Refers-To-Target-URI``); its own target URI is :func:`metadata_target_uri`.
    """
    return builder.create_warc_record(
        metadata_target_uri(url),
        "metadata",
        payload=BytesIO(body),
        length=len(body),
        warc_content_type=content_type,
        warc_headers_dict={"WARC-Refers-To": refers_to, "WARC-Refers-To-Target-URI": url},
    )
