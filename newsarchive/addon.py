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

#: After HttpCompressionMiddleware (590), RedirectMiddleware (600) and RetryMiddleware (550)
#: in the response direction, so every raw exchange is seen before Scrapy rewrites it.
WARC_MIDDLEWARE_ORDER = 950


class NewsarchiveAddon:
    """Enable newsarchive's middleware, pipeline and extension; add the run-folder feed."""

    def update_settings(self, settings: BaseSettings) -> None:
        run_id = settings.get("NEWSARCHIVE_RUN_ID") or new_run_id()
        # Keep the priority the value already has (project settings outrank add-ons).
        priority = max(settings.getpriority("NEWSARCHIVE_RUN_ID") or 0, 15)
        settings.set("NEWSARCHIVE_RUN_ID", check_run_id(run_id), priority=priority)
        settings["DOWNLOADER_MIDDLEWARES"][WARC_MIDDLEWARE] = WARC_MIDDLEWARE_ORDER
        settings["ITEM_PIPELINES"][EXTRACT_PIPELINE] = 300
        settings["EXTENSIONS"][RUNFOLDER_EXTENSION] = 500
        if settings.getbool(
            "NEWSARCHIVE_RUNFOLDER_ENABLED", default_settings.NEWSARCHIVE_RUNFOLDER_ENABLED
        ):
            output = settings.get("NEWSARCHIVE_OUTPUT", default_settings.NEWSARCHIVE_OUTPUT)
            uri = f"{output}/%(name)s/{run_id}/items.jsonl"
            feeds = settings.getdict("FEEDS")
            feeds[uri] = {"format": "jsonlines", "encoding": "utf-8", "store_empty": True}
            settings.set("FEEDS", feeds, priority=settings.getpriority("FEEDS") or "addon")
