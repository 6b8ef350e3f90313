"""The one item schema of newsarchive.

Every JSONL line written by a crawl is an :class:`ArticleItem`. The JSON Schema in
``docs/item.schema.json`` is generated from these dataclasses (``python -m newsarchive.schema``),
and ``tests/test_docs.py`` (schema and docs) and ``tests/test_crawl_rferl.py`` (real crawl
output against the schema) check them against each other.
:class:`UrlRecord` is a line of the run's URL log, ``urls.jsonl`` (``docs/urls.schema.json``).

:class:`FetchedPage` is the internal hand-over from a spider to the extraction pipeline; it never
reaches a feed.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

#: Field metadata of a timestamp: the JSON Schema says ``format: date-time`` (RFC 3339, always in
#: UTC here), and ``scrapy dataset`` types the column as a UTC timestamp from that.
DATE_TIME: dict[str, Any] = {"json_schema_extra": {"format": "date-time"}}


@dataclass
class LegalNotice:
    """A legal label the publisher prints next to the article, kept out of ``text``."""

    kind: str
    """``undesirable-organization`` (Russian 2024 designation of RFE/RL) or ``foreign-agent``
    (the Russian "foreign agent" label)."""

    text: str
    """The notice as printed, whitespace-normalised, paragraphs separated by a blank line."""

    language: str
    """Language of the notice text (BCP 47, e.g. ``en``, ``ru``, ``uk``)."""

    location: str
    """Where in the page it was found: ``article-body`` (inside the body container),
    ``after-body`` (a block after the body), ``footer``, or ``elsewhere``."""

    source: str = "wording"
    """How it was recognised: ``wording`` (a known wording, ``extraction/data/notices.json``),
    ``template`` (the notice's signals in a block of the site's learned template) or
    ``signals`` (its signals in one of the notice's usual places)."""


@dataclass
class WarcRef:
    """Provenance: the WARC response record an item was extracted from."""

    filename: str
    """WARC file name (final name, without ``.open``), relative to the run folder."""

    offset: int
    """Byte offset of the (gzip-member) record in that file."""

    length: int
    """Length in bytes of the compressed record."""

    record_id: str
    """``WARC-Record-ID`` of the response record, e.g. ``<urn:uuid:...>``."""

    payload_digest: str
    """``WARC-Payload-Digest`` of the response record (``sha1:BASE32``)."""


@dataclass
class Extractor:
    """What produced ``text`` and the metadata."""

    name: str
    """Extraction pipeline name, ``newsarchive``."""

    version: str
    """``newsarchive/<version> trafilatura/<version>``."""


@dataclass
class TextChanges:
    """How much the text changed against the version an item replaces."""

    paragraphs_added: int
    """Paragraphs in the new text with no counterpart in the old one."""

    paragraphs_removed: int
    """Paragraphs of the old text that are gone."""

    paragraphs_changed: int
    """Paragraphs edited in place (an old paragraph replaced by a different one)."""

    chars_before: int
    """Length of the old ``text`` in characters."""

    chars_after: int
    """Length of the new ``text`` in characters."""


@dataclass
class ItemChanges:
    """What a new version changed (``newsarchive.changes``): filter with
    ``"title" in changes.fields``."""

    fields: list[str]
    """Content fields whose value changed, in schema order (``title``, ``description``,
    ``authors``, ``published``, ``modified``, ``text``, ``legal_notice``, ...); empty when the
    article came back unchanged after a removal."""

    text: TextChanges | None = None
    """Paragraph and character counts when ``text`` changed, else null."""

    restored: bool = False
    """The article had been recorded as removed (404, 410, redirect to a section page) and is
    back."""


@dataclass
class ArticleItem:
    """One archived news article, as written to ``items.jsonl``."""

    url: str
    """The URL that was fetched (after redirects)."""

    site: str
    """Host name of the service, e.g. ``www.svoboda.org``."""

    article_id: str | None = None
    """Pangea numeric article id (global across all RFE/RL services), as a string."""

    article_key: str | None = None
    """Stable key of the article across runs, on any site: ``article_id`` on Pangea sites, else
    ``url:`` + SHA-1 of the normalised fetched URL (``newsarchive.discovery.urlkey``). Item
    versions are counted per key."""

    canonical_url: str | None = None
    """``<link rel=canonical>`` / ``og:url`` of the page, absolute."""

    language: str | None = None
    """BCP 47 language tag, from the page, JSON-LD or news sitemap (e.g. ``en``, ``ru``, ``fa``)."""

    title: str | None = None
    """Headline, without site-name suffix or trailing whitespace."""

    description: str | None = None
    """Standfirst / meta description."""

    authors: list[str] = field(default_factory=list)
    """Author names as bylined, in page order; empty when there is no byline."""

    published: str | None = field(default=None, metadata=DATE_TIME)
    """Publication time, ISO 8601 in UTC (``2012-02-07T12:34:00Z``)."""

    modified: str | None = field(default=None, metadata=DATE_TIME)
    """Last modification time, ISO 8601 in UTC."""

    section: str | None = None
    """Section / category name."""

    tags: list[str] = field(default_factory=list)
    """Keywords / tags given by the publisher."""

    image: str | None = None
    """Lead image URL."""

    text: str = ""
    """Clean article text: paragraphs separated by a blank line; no captions, no navigation,
    no legal notice."""

    legal_notice: LegalNotice | None = None
    """The legal notice printed with the article, or null (when a page carries both kinds,
    the ``undesirable-organization`` one; all of them are in ``legal_notices``)."""

    legal_notices: list[LegalNotice] = field(default_factory=list)
    """Every legal notice found on the page, in order of importance; empty when none."""

    accessible_for_free: bool | None = None
    """What the page declares in schema.org ``isAccessibleForFree`` (JSON-LD, on the article or a
    ``hasPart`` element): false for a paywalled article, true for a free one, null when it does
    not say. A declaration, not a measurement: a paywalled page may still carry its full text."""

    publication: str | None = None
    """Publication name from the Google News sitemap (``news:publication/news:name``)."""

    discovered_from: str | None = None
    """URL of the sitemap or feed that listed this article."""

    fetched_at: str | None = field(default=None, metadata=DATE_TIME)
    """When the response was received, ISO 8601 in UTC."""

    http_status: int | None = None
    """HTTP status of the archived response."""

    warc: WarcRef | None = None
    """Where the response record this item came from is stored."""

    extractor: Extractor | None = None
    """Name and version of what produced the text."""

    run_id: str | None = None
    """Identifier of the crawl run that produced this item."""

    version: int | None = None
    """1 for the first item of an article; +1 each time a later run finds its content changed
    (an unchanged article yields no item). Null when the crawl keeps no state."""

    previous_digest: str | None = None
    """Content digest (``sha256:...``, see ``newsarchive.state.item_digest``) of the version
    this one replaces; null for version 1."""

    changes: ItemChanges | None = None
    """What changed against the version this one replaces; null for version 1 (and for the
    first change after a state file from before change tracking, whose old fields are unknown)."""


#: Every ``UrlRecord.outcome``: the requested URLs' fates, strongest first, then the rest.
URL_OUTCOMES = ("item", "unchanged", "error", "requisite", "not_article", "skipped",
                "duplicate", "not_requested", "pending", "unaccounted")  # fmt: skip


@dataclass
class WarcPosition:
    """Where the record of a URL's last response is: enough to seek to it."""

    filename: str
    """WARC file name, relative to the run folder."""

    offset: int
    """Byte offset of the (gzip-member) record in that file."""

    record_type: str
    """``response``, or ``revisit`` (the payload is stored in an earlier record)."""


@dataclass
class UrlRecord:
    """One line of a run's ``urls.jsonl``: what became of one URL the crawl discovered.

    Written by the accounting extension from the same table its counts come from, so the lines
    per ``outcome`` and ``reason`` are the ``newsarchive/accounting/...`` stats.
    """

    url: str
    """The URL as discovered (before redirects; the request's URL for a start request)."""

    outcome: str
    """``item``, ``unchanged``, ``error``, ``requisite`` (a page requisite archived),
    ``not_article``, ``skipped``, ``duplicate``, ``not_requested``, ``pending`` (a run stopped
    early) or ``unaccounted`` (a bug)."""

    reason: str | None
    """The outcome's reason, as in the stats (``article``, ``http_404``, ``sitemap:news``,
    ``robots_txt``, ``duplicate_article``, ``queued``...); null for ``unaccounted``."""

    status: int | None = None
    """HTTP status of the last response received for it (after redirects and retries); null when
    none was received."""

    attempts: int = 0
    """Downloads tried for the last URL of its chain (1 + retries); 0 when never downloaded."""

    discovered_from: str | None = None
    """Where the crawl found it: the listing (sitemap, feed, page) credited for an article, else
    the page that linked it (its request's ``Referer``); null for a start URL and where the
    spider did not say."""

    fetched_at: str | None = None
    """When its last response was received (``YYYY-MM-DDTHH:MM:SSZ``); null if none was."""

    redirects: list[str] = field(default_factory=list)
    """The redirect chain, from the URL to the last one fetched; empty when not redirected."""

    warc: WarcPosition | None = None
    """The WARC record of its last response (in a replay run: the replayed record); null when
    there is none (not requested, or failed before a response)."""


@dataclass
class FetchedPage:
    """Internal: an article response handed from a spider to the extraction pipeline."""

    url: str
    site: str
    body: bytes = field(repr=False)
    encoding: str
    http_status: int
    fetched_at: str
    article_id: str | None = None
    warc: WarcRef | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    """What discovery already knows (news-sitemap title, language, publication date...)."""


def item_dict(item: ArticleItem) -> dict[str, Any]:
    """The item as plain data, nested records included: what ``ItemAdapter(item).asdict()``
    (and ``dataclasses.asdict``) gives, at a fraction of its cost (the crawl turns each article
    into a dict several times: dedupe digest and fingerprint, the WARC metadata record, the
    JSONL line)."""
    return _plain(item)


_SCALARS = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        if not is_dataclass(value) or isinstance(value, type):
            return deepcopy(value)  # as dataclasses.asdict does with what it does not know
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
    return {name: _plain(getattr(value, name)) for name in names}
