"""The hand-over from a spider to extraction: an archived response as a :class:`FetchedPage`.

Our spiders and the add-on's article middleware build it here, and so can a user's own spider
(``yield newsarchive.article_page(response)``): the page's bytes, the encoding extraction
should use, and where the WARC middleware stored the response.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.http import Response, TextResponse

from newsarchive import metakeys
from newsarchive.discovery.dates import iso_utc
from newsarchive.extraction.document import real_encoding
from newsarchive.items import FetchedPage, WarcRef


def body_encoding(response: TextResponse) -> str:
    """The encoding to hand to extraction (see ``real_encoding``)."""
    return real_encoding(response.body, response.encoding)


def article_page(response: Response, article_id: str | None = None) -> FetchedPage:
    """``response`` as an article page for the extraction pipeline, with its WARC record.

    ``article_id`` is the site's own id when the spider knows one (an RFE/RL Pangea id);
    otherwise the item's ``article_key`` comes from the URL. Raises ``TypeError`` for a
    response that is not text (an image, a PDF): extraction reads HTML only.
    """
    if not isinstance(response, TextResponse):
        raise TypeError(
            f"article_page() needs an HTML (text) response, not {type(response).__name__} "
            f"for {response.url}"
        )
    location = response.meta.get(metakeys.WARC_RECORD)
    return FetchedPage(
        url=response.url,
        site=urlsplit(response.url).hostname or "",
        body=response.body,
        encoding=body_encoding(response),
        http_status=response.status,
        fetched_at=iso_utc(response.meta.get(metakeys.FETCHED_AT)) or "",
        article_id=article_id if article_id is not None else response.meta.get(metakeys.ARTICLE_ID),
        warc=WarcRef(
            filename=location.filename,
            offset=location.offset,
            length=location.length,
            record_id=location.record_id,
            payload_digest=location.payload_digest or "",
        )
        if location is not None
        else None,
        hints=dict(response.meta.get(metakeys.HINTS) or {}),
    )
