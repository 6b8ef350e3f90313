"""``scrapy extract FILE_OR_URL``: the item one page would become, printed as JSON.

The quickest way to see what the pipeline makes of a page, and to debug extraction. A file
(``.html``, ``.html.gz``) is read from disk; a URL is fetched through the normal Scrapy downloader
(so robots.txt, the user agent, proxies and retries apply) with the archiving, state and run-folder
components switched off: nothing is written. Either way the item is built by the pipeline's own
functions (:func:`newsarchive.extraction.extract` and
:func:`newsarchive.pipelines.extract.build_item`), so the output is the JSONL line a crawl would
write, minus the provenance a one-off fetch does not have (``warc``, ``run_id``).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import zlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy import Request, Spider
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.utils.datatypes import SequenceExclude
from twisted.python.failure import Failure
from w3lib.url import is_url

from newsarchive.discovery.dates import iso_utc
from newsarchive.extraction import extract, is_article
from newsarchive.extraction.sniff import not_html
from newsarchive.items import ArticleItem, FetchedPage
from newsarchive.pages import body_encoding
from newsarchive.pipelines.extract import build_item

#: Components that write or remember something: a one-page look must leave no trace.
SWITCHED_OFF = (
    "NEWSARCHIVE_WARC_ENABLED",
    "NEWSARCHIVE_RUNFOLDER_ENABLED",
    "NEWSARCHIVE_SUMMARY_ENABLED",
    "NEWSARCHIVE_CDXJ_ENABLED",
    "NEWSARCHIVE_WACZ_ENABLED",
    "NEWSARCHIVE_SELFCHECK_ENABLED",
    "NEWSARCHIVE_ERRORLOG_ENABLED",
    "NEWSARCHIVE_ACCOUNTING_ENABLED",
    "NEWSARCHIVE_RUNLOCK_ENABLED",
    "NEWSARCHIVE_STATE_ENABLED",
    "NEWSARCHIVE_CONDITIONAL_ENABLED",
    "NEWSARCHIVE_DEDUPE_ENABLED",
    "NEWSARCHIVE_MANIFEST_ENABLED",
    "NEWSARCHIVE_CHANGELOG_ENABLED",
    "NEWSARCHIVE_EXTRACT_ENABLED",  # the command extracts itself, after the crawl
)
#: Settings at or below the project's priority give way; ``-s NAME=...`` still wins.
PROJECT_PRIORITY = 20
EXIT_FAILED = 1


def read_page(path: Path) -> bytes:
    """The bytes of a saved page; gzip (by content, whatever the name) is undone, unless what
    it holds is an archive (a ``.warc.gz`` is many gzip members: its start says what it is)."""
    data = path.read_bytes()
    if data[:2] != b"\x1f\x8b":
        return data
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
        head = fh.read(len(b"filedesc://"))
        if not_html(head) in ("a WARC file", "an ARC file"):
            return head
    return gzip.decompress(data)


def item_for(
    html: str | bytes, page: FetchedPage, *, run_id: str | None = None
) -> tuple[ArticleItem, str]:
    """The item the pipeline would build for ``page``, and the ``is_article`` verdict."""
    ok, reason = is_article(html, page.url)
    fields = extract(html, page.url, hints=page.hints)
    return build_item(page, fields, run_id), reason if not ok else "article"


class Command(ScrapyCommand):
    requires_project = False
    default_settings: ClassVar[dict[str, Any]] = {}

    def syntax(self) -> str:
        return "[options] <file or URL>"

    def short_desc(self) -> str:
        return "Extract one page (a file or a URL) and print the item as JSON"

    def long_desc(self) -> str:
        return (
            "Print the JSONL item the extraction pipeline builds for one page. A file path "
            "(.html or .html.gz) is read from disk; give --url for the page's address (default: "
            "its canonical link). A URL is fetched through the Scrapy downloader (robots.txt, "
            "user agent, proxies and retries apply); nothing is archived. A page the pipeline "
            "would drop as not an article is still printed, with a note on standard error. "
            "One page has no site memory: legal notices are recognised by their known wordings "
            "and by their signals alone (no learned template), and no template block is removed "
            "from the text (see docs/notices.md)."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", help="address of a page read from a file")
        parser.add_argument(
            "--compact", action="store_true", help="one JSON line (as in items.jsonl)"
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        _switch_off(self.settings)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one file or URL")
        target = args[0]
        if is_url(target) and urlsplit(target).scheme in ("http", "https"):
            result = self._fetch(target)
        else:
            result = self._from_file(Path(target), opts.url)
        if result is None:
            self.exitcode = EXIT_FAILED
            return
        item, verdict = result
        if verdict != "article":
            print(
                f"note: the pipeline would drop this page: not an article ({verdict})",
                file=sys.stderr,
            )
        indent = None if opts.compact else 2
        print(json.dumps(ItemAdapter(item).asdict(), ensure_ascii=False, indent=indent))

    # -- a file ----------------------------------------------------------------------------------
    def _from_file(self, path: Path, url: str | None) -> tuple[ArticleItem, str] | None:
        if not path.is_file():
            raise UsageError(
                f"{path}: no such file (give an HTML file, .html.gz, or an http(s) URL)"
            )
        try:
            html = read_page(path)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            print(f"{path}: damaged gzip data, not an HTML page ({exc})", file=sys.stderr)
            return None
        what = not_html(html)
        if what is not None:
            print(f"{path}: {what}, not an HTML page: {_instead(what, path)}", file=sys.stderr)
            return None
        if not url:
            # A saved page knows where it came from: its canonical link or og:url.
            url = extract(html, path.resolve().as_uri())["canonical_url"] or path.resolve().as_uri()
        page = FetchedPage(
            url=url,
            site=urlsplit(url).hostname or "",
            body=html,
            encoding="",
            http_status=0,
            fetched_at="",
        )
        item, verdict = item_for(html, page)
        # Not fetched by us: no status, no fetch time.
        return replace(item, http_status=None, fetched_at=None), verdict

    # -- a URL -----------------------------------------------------------------------------------
    def _fetch(self, url: str) -> tuple[ArticleItem, str] | None:
        assert self.crawler_process is not None
        got: dict[str, Any] = {}
        request = Request(
            url,
            callback=lambda response: got.setdefault("response", response),
            errback=lambda failure: got.setdefault("failure", failure),
            dont_filter=True,
            # Redirects are followed; every other status reaches the callback to be reported.
            meta={"handle_httpstatus_list": SequenceExclude(range(300, 400))},
        )

        class ExtractSpider(Spider):
            name = "extract"

            async def start(self) -> AsyncIterator[Request]:
                yield request

        self.crawler_process.crawl(ExtractSpider)
        self.crawler_process.start()
        response: Response | None = got.get("response")
        if response is None:
            failure: Failure | None = got.get("failure")
            why = failure.getErrorMessage() if failure is not None else "not fetched"
            print(
                f"{url}: not fetched: {why}",
                file=sys.stderr,
            )
            return None
        if not isinstance(response, TextResponse):
            print(
                f"{response.url}: not a text page ({response.headers.get('Content-Type')!r})",
                file=sys.stderr,
            )
            return None
        if not 200 <= response.status < 300:
            print(f"{response.url}: HTTP {response.status}", file=sys.stderr)
            return None
        what = not_html(response.body)
        if what is not None:
            print(f"{response.url}: {what}, not an HTML page", file=sys.stderr)
            return None
        html = response.body.decode(body_encoding(response), errors="replace")
        page = FetchedPage(
            url=response.url,
            site=urlsplit(response.url).hostname or "",
            body=response.body,
            encoding=response.encoding,
            http_status=response.status,
            fetched_at=iso_utc(datetime.now(UTC)) or "",
        )
        item, verdict = item_for(html, page)
        return replace(item, run_id=None), verdict


def _instead(what: str, path: Path) -> str:
    """What to run instead, for the archive formats people hand over by mistake."""
    if what in ("a WARC file", "an ARC file") or what.startswith("a ZIP"):
        return (
            f"to extract every page in it run 'scrapy reextract {path}'; for one record, "
            f"save its payload ('warcio extract --payload {path} OFFSET > page.html', the offset "
            "from 'cdxj-indexer' or an item's warc.offset) and run 'scrapy extract page.html "
            "--url URL'"
        )
    return "give a saved HTML page (.html or .html.gz) or an http(s) URL"


def _switch_off(settings: BaseSettings) -> None:
    """Archive-writing components off; log errors only (a "Disabled ..." warning per component
    would bury the JSON)."""
    for name in SWITCHED_OFF:
        if (settings.getpriority(name) or 0) <= PROJECT_PRIORITY:
            settings.set(name, False, priority=PROJECT_PRIORITY)
    if (settings.getpriority("LOG_LEVEL") or 0) <= PROJECT_PRIORITY:
        settings.set("LOG_LEVEL", "ERROR", priority=PROJECT_PRIORITY)
