"""The newsarchive add-on: registers the components and fixes the run id before the crawl.

Scrapy add-ons run before settings freeze, which is the one place a run id can be chosen once
and shared by the feed (``items.jsonl``), the WARC writer and the summary.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from newsarchive import __version__, default_settings
from newsarchive.cluster.connect import redis_url_error
from newsarchive.cluster.keys import worker_id_for
from newsarchive.runfolder import check_run_id, new_run_id, worker_file

_PKG = "newsarchive"

#: Downloader middlewares and their order. Request direction runs low → high, responses
#: high → low, so the order says what each one sees.
DOWNLOADER_MIDDLEWARES = {
    # Lowest, so last to see an exception: only what no other middleware settled (retries
    # given up, robots.txt and off-site refusals) is reported, for requests without errback.
    f"{_PKG}.downloadermiddlewares.failurereport.FailureReportMiddleware": 10,
    # Right after Scrapy's OffsiteMiddleware (50): refuses off-scope retries and redirects too.
    f"{_PKG}.downloadermiddlewares.scope.ScopeMiddleware": 55,
    # Right after it: page requisites (off by default) pass scope, page budget and size cap
    # here, redirects included, before robots.txt (100) is asked about them.
    f"{_PKG}.downloadermiddlewares.requisitebudget.RequisiteBudgetMiddleware": 56,
    # Below the conditional middleware: sees a known article's answer once it is archived,
    # and the end of each redirect chain (Redirect, 600, re-sends through it), so it can tell
    # a removal: 404, 410, or a redirect to a section page.
    f"{_PKG}.downloadermiddlewares.removal.RemovalMiddleware": 930,
    # Just below the WARC middleware: sees each response right after it is archived.
    f"{_PKG}.downloadermiddlewares.conditional.ConditionalRequestMiddleware": 940,
    # After Retry (550), HttpCompression (590) and Redirect (600) in the response direction:
    # every raw exchange is archived before Scrapy rewrites it.
    f"{_PKG}.downloadermiddlewares.warc.WarcArchiveMiddleware": 950,
    # Last in the request direction (the request is complete, as it would go on the wire) and
    # first in the response direction: replayed responses pass WARC (which skips them), cache,
    # stats, redirect, decompression and retry like downloaded ones.
    f"{_PKG}.downloadermiddlewares.replay.ReplayMiddleware": 960,
}
#: Spider middlewares. Output runs high → low.
SPIDER_MIDDLEWARES = {
    # Closest to the spider: the requisite requests an article page adds then pass Scrapy's
    # Depth (900), UrlLength (800) and Referer (700, the page as Referer).
    f"{_PKG}.spidermiddlewares.requisites.RequisitesMiddleware": 950,
    # Output direction runs high → low: after the user's own middlewares (above 550) have seen
    # the callback's output, the marked response's article page is added to it.
    f"{_PKG}.spidermiddlewares.articlepage.ArticlePageMiddleware": 550,
}
ITEM_PIPELINES = {
    f"{_PKG}.pipelines.extract.ExtractPipeline": 300,
    f"{_PKG}.pipelines.dedupe.DedupePipeline": 400,
}
#: Extensions are built, and their signal handlers connected (so run), in this order.
EXTENSIONS = {
    f"{_PKG}.extensions.runlock.RunLockExtension": 100,  # first: nothing runs without the lock
    f"{_PKG}.extensions.statestore.StateStoreExtension": 110,  # repairs killed runs at start
    f"{_PKG}.extensions.manifest.ManifestExtension": 120,
    f"{_PKG}.extensions.selfcheck.SelfCheckExtension": 400,  # before the summary (500)
    # After the manifest and the self-check, before the summary that names report.html.
    f"{_PKG}.extensions.report.ReportExtension": 450,
    f"{_PKG}.extensions.runfolder.RunFolderExtension": 500,
    f"{_PKG}.extensions.errorlog.ErrorLogExtension": 510,
    f"{_PKG}.extensions.changelog.ChangeLogExtension": 515,  # changes.jsonl, like errors.jsonl
    f"{_PKG}.extensions.accounting.AccountingExtension": 520,
    f"{_PKG}.extensions.progress.ProgressExtension": 530,  # only reads the stats and logs
}
SCRAPY_RETRY_MIDDLEWARE = "scrapy.downloadermiddlewares.retry.RetryMiddleware"
SCRAPY_ROBOTSTXT_MIDDLEWARE = "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"
SHARED_ROBOTSTXT_MIDDLEWARE = f"{_PKG}.downloadermiddlewares.robotstxt.SharedRobotsTxtMiddleware"
BACKOFF_MIDDLEWARE = f"{_PKG}.downloadermiddlewares.backoff.BackoffRetryMiddleware"
WIRE_HEADERS_HANDLER = f"{_PKG}.downloadhandlers.wireheaders.WireHeadersDownloadHandler"
DURABLE_FEED_STORAGE = f"{_PKG}.extensions.feedstorage.DurableFileFeedStorage"
SCRAPY_SCHEDULER = "scrapy.core.scheduler.Scheduler"
DISK_QUEUE_SCHEDULER = f"{_PKG}.schedulers.diskqueue.DiskQueueScheduler"
#: The run folder's ``items.jsonl`` format: Scrapy's ``jsonlines``, with a cheaper article path.
ARTICLE_LINES_FORMAT = "newsarchive_jsonlines"
ARTICLE_LINES_EXPORTER = f"{_PKG}.exporters.articlelines.ArticleLinesExporter"

#: Archive-writing components a replay run switches off.
REPLAY_DISABLES = (
    "NEWSARCHIVE_WARC_ENABLED",
    "NEWSARCHIVE_CDXJ_ENABLED",
    "NEWSARCHIVE_WACZ_ENABLED",
    "NEWSARCHIVE_SELFCHECK_ENABLED",
    "NEWSARCHIVE_STATE_ENABLED",  # a replay must neither skip nor version known articles
)
PROJECT_PRIORITY = 20
#: Scrapy starts ``CONCURRENT_ITEMS`` tasks for every response's output (100 by default: about
#: 1.5 ms of CPU a page, a fifth of a bare crawl's); an article page yields one item and a
#: sitemap's requests need no waiting, so a few are plenty.
CONCURRENT_ITEMS = 8

#: Distributed mode (``NEWSARCHIVE_DISTRIBUTED``): scrapy-redis's queue and duplicate filter,
#: taken from with in-flight tokens; the worker's membership; seeding once and acks.
DISTRIBUTED_SCHEDULER = f"{_PKG}.schedulers.distributed.DistributedScheduler"
REDIS_DUPEFILTER = f"{_PKG}.schedulers.dupefilter.ArticleDupeFilter"
#: Built right after the run lock (100): the worker registers before anything else runs.
DISTRIBUTED_EXTENSION = (f"{_PKG}.extensions.distributed.DistributedExtension", 105)
#: Next to the engine in the output direction (process_spider_output runs high → low), so a
#: request is acked only once everything its callback yielded reached the engine.
SHARED_FRONTIER_MIDDLEWARE = (
    f"{_PKG}.spidermiddlewares.sharedfrontier.SharedFrontierMiddleware",
    10,
)
#: What the merge (``scrapy runmerge``) does once for the whole run instead of each worker.
MERGE_DOES = (
    "NEWSARCHIVE_CDXJ_ENABLED",
    "NEWSARCHIVE_WACZ_ENABLED",
    "NEWSARCHIVE_SELFCHECK_ENABLED",
    "NEWSARCHIVE_REPORT_ENABLED",
)


def distributed_settings(settings: BaseSettings, run_id: str, given: bool) -> str:
    """Switch one worker to the shared frontier; its worker id (checked, or made up)."""
    url = settings.get("NEWSARCHIVE_DISTRIBUTED")
    problem = redis_url_error(url)
    if problem:
        raise ValueError(problem)
    if not given:
        raise ValueError(
            "NEWSARCHIVE_DISTRIBUTED needs NEWSARCHIVE_RUN_ID: give every worker of one run the "
            "same run id (-s NEWSARCHIVE_RUN_ID=backfill-2026-12)"
        )
    worker = worker_id_for(settings.get("NEWSARCHIVE_WORKER_ID", ""))
    priority = max(settings.getpriority("NEWSARCHIVE_WORKER_ID") or 0, 15)
    settings.set("NEWSARCHIVE_WORKER_ID", worker, priority=priority)
    keys = f"newsarchive:%(spider)s:{run_id}"
    for name, value in (
        ("SCHEDULER", DISTRIBUTED_SCHEDULER),
        ("DUPEFILTER_CLASS", REDIS_DUPEFILTER),
        ("REDIS_URL", url),
        ("SCHEDULER_PERSIST", True),  # one worker's end is not the run's
        ("SCHEDULER_QUEUE_KEY", f"{keys}:requests"),
        ("SCHEDULER_DUPEFILTER_KEY", f"{keys}:dupefilter"),
    ):
        settings.set(name, value, priority=PROJECT_PRIORITY + 1)
    for name in MERGE_DOES:
        if (settings.getpriority(name) or 0) <= PROJECT_PRIORITY:
            settings.set(name, False, priority=PROJECT_PRIORITY)
    settings["EXTENSIONS"][DISTRIBUTED_EXTENSION[0]] = DISTRIBUTED_EXTENSION[1]
    settings["SPIDER_MIDDLEWARES"][SHARED_FRONTIER_MIDDLEWARE[0]] = SHARED_FRONTIER_MIDDLEWARE[1]
    return worker


def user_agent(contact: str) -> str:
    """An identifying User-Agent naming the crawler and how to reach its operator."""
    return f"newsarchive/{__version__} (+{contact}; archival crawler)"


class NewsarchiveAddon:
    """Enable newsarchive's components; choose the run id; add the run-folder feed."""

    def update_settings(self, settings: BaseSettings) -> None:
        given = bool(settings.get("NEWSARCHIVE_RUN_ID"))
        run_id = settings.get("NEWSARCHIVE_RUN_ID") or new_run_id()
        # Keep the priority the value already has (project settings outrank add-ons).
        priority = max(settings.getpriority("NEWSARCHIVE_RUN_ID") or 0, 15)
        settings.set("NEWSARCHIVE_RUN_ID", check_run_id(run_id), priority=priority)
        worker = None
        if settings.get("NEWSARCHIVE_DISTRIBUTED"):
            worker = distributed_settings(settings, run_id, given)
        if (settings.getpriority("USER_AGENT") or 0) == 0:  # only Scrapy's default is replaced
            contact = settings.get("NEWSARCHIVE_CONTACT", default_settings.NEWSARCHIVE_CONTACT)
            settings.set("USER_AGENT", user_agent(contact), priority=15)
        if (settings.getpriority("CONCURRENT_ITEMS") or 0) == 0:  # only Scrapy's default
            settings.set("CONCURRENT_ITEMS", CONCURRENT_ITEMS, priority=15)
        if settings.get("NEWSARCHIVE_REPLAY"):
            # A replay run reads an archive and writes none (its items point at the records
            # they were rebuilt from); a setting given on the command line still wins.
            for name in REPLAY_DISABLES:
                if (settings.getpriority(name) or 0) <= PROJECT_PRIORITY:
                    settings.set(name, False, priority=PROJECT_PRIORITY)
        for name, table in (
            ("DOWNLOADER_MIDDLEWARES", DOWNLOADER_MIDDLEWARES),
            ("SPIDER_MIDDLEWARES", SPIDER_MIDDLEWARES),
            ("ITEM_PIPELINES", ITEM_PIPELINES),
            ("EXTENSIONS", EXTENSIONS),
        ):
            for component, order in table.items():
                settings[name][component] = order
        if settings.getbool(
            "NEWSARCHIVE_BACKOFF_ENABLED", default_settings.NEWSARCHIVE_BACKOFF_ENABLED
        ):  # the backoff subclass takes Scrapy's retry middleware's place (550)
            settings["DOWNLOADER_MIDDLEWARES"][SCRAPY_RETRY_MIDDLEWARE] = None
            settings["DOWNLOADER_MIDDLEWARES"][BACKOFF_MIDDLEWARE] = 550
        # In Scrapy's place (100): robots.txt rules from the spider's own robots.txt request,
        # not a second download of it (still only with ROBOTSTXT_OBEY).
        settings["DOWNLOADER_MIDDLEWARES"][SCRAPY_ROBOTSTXT_MIDDLEWARE] = None
        settings["DOWNLOADER_MIDDLEWARES"][SHARED_ROBOTSTXT_MIDDLEWARE] = 100
        # Pending requests on disk (NEWSARCHIVE_DISKQUEUE_ENABLED), in Scrapy's scheduler's
        # place only: a project's or the distributed run's scheduler wins.
        if settings.get("SCHEDULER") == SCRAPY_SCHEDULER:
            settings.set("SCHEDULER", DISK_QUEUE_SCHEDULER, priority=15)
        # Unbuffered item lines: a killed run loses no item it already reported.
        storages = settings["FEED_STORAGES"]
        for scheme in ("", "file"):
            if not storages.get(scheme):  # a project's own storage wins
                storages[scheme] = DURABLE_FEED_STORAGE
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
            uri = f"{output}/%(name)s/{run_id}/{worker_file('items.jsonl', worker)}"
            feeds = settings.getdict("FEEDS")
            settings["FEED_EXPORTERS"].setdefault(ARTICLE_LINES_FORMAT, ARTICLE_LINES_EXPORTER)
            # Articles only: a user's own spider's items go to the user's own feeds.
            feeds[uri] = {
                "format": ARTICLE_LINES_FORMAT,
                "encoding": "utf-8",
                "store_empty": True,
                "item_classes": ["newsarchive.items.ArticleItem"],
            }
            settings.set("FEEDS", feeds, priority=settings.getpriority("FEEDS") or "addon")
