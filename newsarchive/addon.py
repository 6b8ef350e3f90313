"""The newsarchive add-on: registers the components and fixes the run id before the crawl.

Scrapy add-ons run before settings freeze, which is the one place a run id can be chosen once
and shared by the feed (``items.jsonl``), the WARC writer and the summary.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from newsarchive import default_settings
from newsarchive.runfolder import check_run_id, new_run_id

WARC_MIDDLEWARE = "newsarchive.downloadermiddlewares.warc.WarcArchiveMiddleware"
EXTRACT_PIPELINE = "newsarchive.pipelines.extract.ExtractPipeline"
RUNFOLDER_EXTENSION = "newsarchive.extensions.runfolder.RunFolderExtension"
REPLAY_MIDDLEWARE = "newsarchive.downloadermiddlewares.replay.ReplayMiddleware"
SELFCHECK_EXTENSION = "newsarchive.extensions.selfcheck.SelfCheckExtension"
ERRORLOG_EXTENSION = "newsarchive.extensions.errorlog.ErrorLogExtension"
ACCOUNTING_EXTENSION = "newsarchive.extensions.accounting.AccountingExtension"
BACKOFF_MIDDLEWARE = "newsarchive.downloadermiddlewares.backoff.BackoffRetryMiddleware"
SCRAPY_RETRY_MIDDLEWARE = "scrapy.downloadermiddlewares.retry.RetryMiddleware"
SCOPE_MIDDLEWARE = "newsarchive.downloadermiddlewares.scope.ScopeMiddleware"
WIRE_HEADERS_HANDLER = "newsarchive.downloadhandlers.wireheaders.WireHeadersDownloadHandler"
# Scheduled runs (issue 4): lock, state store, manifest, conditional requests, item versions.
RUNLOCK_EXTENSION = "newsarchive.extensions.runlock.RunLockExtension"
STATESTORE_EXTENSION = "newsarchive.extensions.statestore.StateStoreExtension"
MANIFEST_EXTENSION = "newsarchive.extensions.manifest.ManifestExtension"
CONDITIONAL_MIDDLEWARE = (
    "newsarchive.downloadermiddlewares.conditional.ConditionalRequestMiddleware"
)
DEDUPE_PIPELINE = "newsarchive.pipelines.dedupe.DedupePipeline"
DURABLE_FEED_STORAGE = "newsarchive.extensions.feedstorage.DurableFileFeedStorage"

#: After HttpCompressionMiddleware (590), RedirectMiddleware (600) and RetryMiddleware (550)
#: in the response direction, so every raw exchange is seen before Scrapy rewrites it.
WARC_MIDDLEWARE_ORDER = 950
#: Last in the request direction (the request is complete, as it would go on the wire) and so
#: first in the response direction: replayed responses pass WARC (which skips them), cache,
#: stats, redirect, decompression and retry like downloaded ones.
REPLAY_MIDDLEWARE_ORDER = 960
#: Archive-writing components a replay run switches off.
REPLAY_DISABLES = (
    "NEWSARCHIVE_WARC_ENABLED",
    "NEWSARCHIVE_CDXJ_ENABLED",
    "NEWSARCHIVE_WACZ_ENABLED",
    "NEWSARCHIVE_SELFCHECK_ENABLED",
    "NEWSARCHIVE_STATE_ENABLED",  # a replay must neither skip nor version known articles
)
PROJECT_PRIORITY = 20


class NewsarchiveAddon:
    """Enable newsarchive's middleware, pipeline and extension; add the run-folder feed."""

    def update_settings(self, settings: BaseSettings) -> None:
        run_id = settings.get("NEWSARCHIVE_RUN_ID") or new_run_id()
        # Keep the priority the value already has (project settings outrank add-ons).
        priority = max(settings.getpriority("NEWSARCHIVE_RUN_ID") or 0, 15)
        settings.set("NEWSARCHIVE_RUN_ID", check_run_id(run_id), priority=priority)
        if settings.get("NEWSARCHIVE_REPLAY"):
            # A replay run reads an archive and writes none (its items point at the records
            # they were rebuilt from); a setting given on the command line still wins.
            for name in REPLAY_DISABLES:
                if (settings.getpriority(name) or 0) <= PROJECT_PRIORITY:
                    settings.set(name, False, priority=PROJECT_PRIORITY)
        settings["DOWNLOADER_MIDDLEWARES"][WARC_MIDDLEWARE] = WARC_MIDDLEWARE_ORDER
        settings["DOWNLOADER_MIDDLEWARES"][REPLAY_MIDDLEWARE] = REPLAY_MIDDLEWARE_ORDER
        settings["ITEM_PIPELINES"][EXTRACT_PIPELINE] = 300
        # Lock first (built in this order), then the state store, which repairs killed runs.
        settings["EXTENSIONS"][RUNLOCK_EXTENSION] = 100
        settings["EXTENSIONS"][STATESTORE_EXTENSION] = 110
        settings["EXTENSIONS"][MANIFEST_EXTENSION] = 120
        # Just below the WARC middleware: sees each response right after it is archived.
        settings["DOWNLOADER_MIDDLEWARES"][CONDITIONAL_MIDDLEWARE] = WARC_MIDDLEWARE_ORDER - 10
        settings["ITEM_PIPELINES"][DEDUPE_PIPELINE] = 400
        # Unbuffered item lines: a killed run loses no item it already reported.
        storages = settings["FEED_STORAGES"]
        for scheme in ("", "file"):
            if not storages.get(scheme):  # a project's own storage wins
                storages[scheme] = DURABLE_FEED_STORAGE
        settings["EXTENSIONS"][RUNFOLDER_EXTENSION] = 500
        settings["EXTENSIONS"][ERRORLOG_EXTENSION] = 510
        settings["EXTENSIONS"][ACCOUNTING_EXTENSION] = 520
        settings["DOWNLOADER_MIDDLEWARES"][SCOPE_MIDDLEWARE] = 55  # right after OffsiteMiddleware
        if settings.getbool(
            "NEWSARCHIVE_BACKOFF_ENABLED", default_settings.NEWSARCHIVE_BACKOFF_ENABLED
        ):  # the backoff subclass takes Scrapy's retry middleware's place (550)
            settings["DOWNLOADER_MIDDLEWARES"][SCRAPY_RETRY_MIDDLEWARE] = None
            settings["DOWNLOADER_MIDDLEWARES"][BACKOFF_MIDDLEWARE] = 550
        # Lower than the run folder's, so its engine_stopped handler runs before the summary.
        settings["EXTENSIONS"][SELFCHECK_EXTENSION] = 400
        if settings.getbool("NEWSARCHIVE_WARC_ENABLED", default_settings.NEWSARCHIVE_WARC_ENABLED):
            # Twisted hides Transfer-Encoding & co.; this handler gives them back to the WARC.
            handlers = settings["DOWNLOAD_HANDLERS"]
            for scheme in ("http", "https"):
                if scheme not in handlers:  # a project's own handler wins
                    handlers[scheme] = WIRE_HEADERS_HANDLER
        if settings.getbool(
            "NEWSARCHIVE_RUNFOLDER_ENABLED", default_settings.NEWSARCHIVE_RUNFOLDER_ENABLED
        ):
            output = settings.get("NEWSARCHIVE_OUTPUT", default_settings.NEWSARCHIVE_OUTPUT)
            uri = f"{output}/%(name)s/{run_id}/items.jsonl"
            feeds = settings.getdict("FEEDS")
            feeds[uri] = {"format": "jsonlines", "encoding": "utf-8", "store_empty": True}
            settings.set("FEEDS", feeds, priority=settings.getpriority("FEEDS") or "addon")
