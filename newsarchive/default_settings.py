"""Every default of every setting newsarchive adds, in one place.

Components read ``crawler.settings.get(NAME, default_settings.NAME)`` so they work in any Scrapy
project, not only with ``newsarchive.settings``. Each one is documented in the README's table.
"""

from __future__ import annotations

#: Root folder of the run folders: ``<root>/<spider>/<run id>/``.
NEWSARCHIVE_OUTPUT = "output"
#: Run identifier; empty means a UTC timestamp chosen when the crawl starts.
NEWSARCHIVE_RUN_ID = ""
#: Folder of the third-party corpora used by tests and benchmarks.
NEWSARCHIVE_CORPORA = "../shared/corpora"
#: Contact address added to the User-Agent and to every warcinfo record.
NEWSARCHIVE_CONTACT = "https://github.com/newsarchive/newsarchive"

#: Archive every HTTP exchange to WARC.
NEWSARCHIVE_WARC_ENABLED = True
#: WARC file name prefix: ``<prefix>-<run id>-<serial>.warc.gz``.
NEWSARCHIVE_WARC_PREFIX = "newsarchive"
#: Start a new WARC file once the current one reaches this many bytes.
NEWSARCHIVE_WARC_MAX_SIZE = 1024**3
#: Write a revisit record when a payload was already archived in this run.
NEWSARCHIVE_WARC_DEDUPE = True
#: Write a metadata record with the extracted item next to each article's response.
NEWSARCHIVE_WARC_METADATA = True
#: gzip level of each WARC record (1 fastest .. 9 smallest), compressed with zlib-ng.
NEWSARCHIVE_WARC_GZIP_LEVEL = 5

#: Extract articles with trafilatura + the Pangea profile.
NEWSARCHIVE_EXTRACT_ENABLED = True
#: Hand the response of every request marked ``newsarchive_article`` to extraction (a user's
#: own spider's way in; see ``newsarchive.spidermiddlewares.articlepage``).
NEWSARCHIVE_ARTICLEPAGE_ENABLED = True

#: Write items.jsonl into the run folder (in addition to any -o/-O feed).
NEWSARCHIVE_RUNFOLDER_ENABLED = True
#: Print a human summary of the run when the spider closes.
NEWSARCHIVE_SUMMARY_ENABLED = True

#: At the close of a run, write the CDXJ index of its WARCs to ``indexes/index.cdxj``.
NEWSARCHIVE_CDXJ_ENABLED = True
#: At the close of a run, package it as ``<spider>-<run id>.wacz`` (WACZ 1.1.1).
NEWSARCHIVE_WACZ_ENABLED = True
#: At the close of a run, check WARCs, item provenance and WACZ; a failure fails the run.
NEWSARCHIVE_SELFCHECK_ENABLED = True

#: Replay: a WARC, WACZ or run folder to answer every request from (no network); empty = off.
NEWSARCHIVE_REPLAY = ""

#: Write errors.jsonl (one line per URL that failed) in the run folder.
NEWSARCHIVE_ERRORLOG_ENABLED = True
#: Account for every requested URL at close (item, error, not article, skip, duplicate).
NEWSARCHIVE_ACCOUNTING_ENABLED = True
#: Write urls.jsonl (one line per discovered URL and its fate) in the run folder.
NEWSARCHIVE_URLS_ENABLED = True
#: Refuse any request outside the spider's allowed_domains, even retried/redirected ones.
NEWSARCHIVE_SCOPE_ENABLED = True
#: Wait before retries (replaces Scrapy's RetryMiddleware; same RETRY_* settings).
NEWSARCHIVE_BACKOFF_ENABLED = True
#: First retry delay in seconds; doubles with every attempt; Retry-After raises it.
NEWSARCHIVE_BACKOFF_BASE = 1.0
#: Longest wait before one retry, in seconds (also caps Retry-After).
NEWSARCHIVE_BACKOFF_MAX_DELAY = 60.0
#: Largest article page, in bytes after decompression (per-request ``download_maxsize``).
NEWSARCHIVE_ARTICLE_MAXSIZE = 10 * 1024 * 1024

#: Page requisites (stylesheets, fonts, images, icons) of every article page, fetched once per
#: run (``-a requisites=1`` turns them on for one run).
NEWSARCHIVE_REQUISITES_ENABLED = False
#: Asset domains (and their subdomains) requisites may come from on every site, besides the
#: page's own host and, for RFE/RL services, their Pangea asset hosts.
NEWSARCHIVE_REQUISITES_HOSTS: list[str] = []
#: More denied domains, added to the tracker/ad/analytics list in data/requisite_deny.json.
NEWSARCHIVE_REQUISITES_DENY: list[str] = []
#: Also fetch the page's ``<script src>`` (off: archived pages render without scripts).
NEWSARCHIVE_REQUISITES_SCRIPTS = False
#: At most this many requisite requests per page (its stylesheets' fonts and images included).
NEWSARCHIVE_REQUISITES_MAX_PER_PAGE = 60
#: Largest requisite, in bytes (per-request ``download_maxsize``).
NEWSARCHIVE_REQUISITES_MAXSIZE = 5 * 1024 * 1024
#: Bytes the requisites of one page may take in all; later ones are not fetched.
NEWSARCHIVE_REQUISITES_PAGE_MAXSIZE = 20 * 1024 * 1024

#: Scheduled runs. Lock a spider's output so a second run cannot start (or repair) over it.
NEWSARCHIVE_RUNLOCK_ENABLED = True
#: Keep state across runs (what was fetched, archived, emitted); needed for incremental runs.
NEWSARCHIVE_STATE_ENABLED = True
#: SQLite state file; empty means ``<NEWSARCHIVE_OUTPUT>/<spider>/state.sqlite``.
NEWSARCHIVE_STATE_PATH = ""
#: Hours after publication during which a known article is re-checked on every run.
NEWSARCHIVE_REFRESH_WINDOW = 48
#: Re-check known articles (conditionally) this long after publication, one step each; then
#: never. Units m, h, d, w (``newsarchive.state.recheck``); empty: no age-based re-checks.
NEWSARCHIVE_RECHECK_SCHEDULE = "1h,6h,1d,3d,7d,30d"
#: Most articles one run re-checks by age; the rest stay due for the next run (0: none).
NEWSARCHIVE_RECHECK_BUDGET = 1000
#: The moment the schedule is read at (ISO 8601, UTC); empty: now. For tests and dry runs.
NEWSARCHIVE_RECHECK_NOW = ""
#: Treat a known article that answers 404/410 or redirects to a section page as removed.
NEWSARCHIVE_REMOVAL_ENABLED = True
#: Write ``changes.jsonl`` (changed and removed articles) in the run folder.
NEWSARCHIVE_CHANGELOG_ENABLED = True
#: Fetch every discovered article in full, ignoring what the state store knows (``-a full=1``).
NEWSARCHIVE_FULL_RECRAWL = False
#: Send If-None-Match / If-Modified-Since for known articles.
NEWSARCHIVE_CONDITIONAL_ENABLED = True
#: Emit an article only when its content changed since the stored version.
NEWSARCHIVE_DEDUPE_ENABLED = True
#: Keep the pending requests in a temporary disk queue (removed at close), not in memory, so
#: the crawl's memory does not grow with the number of articles listed (``JOBDIR`` given:
#: Scrapy's own job queue; a distributed run: the shared frontier).
NEWSARCHIVE_DISKQUEUE_ENABLED = True
#: Write manifest.json in the run folder.
NEWSARCHIVE_MANIFEST_ENABLED = True
#: Fail the run (non-zero exit) when more than this share of requested URLs failed.
NEWSARCHIVE_MAX_ERROR_RATIO = 0.2

#: Extraction bounds (issue 5): worker processes that extract pages; 0 = in the crawl's own
#: process, unbounded (for debugging); None = one per CPU core.
NEWSARCHIVE_EXTRACT_WORKERS = None
#: Seconds one page's extraction may take before its worker is killed and the page fails
#: (``extraction_timeout``); 0 = no bound.
NEWSARCHIVE_EXTRACT_TIMEOUT = 30.0
#: Address-space cap of each extraction worker, in bytes (``extraction_memory``); 0 = no cap.
NEWSARCHIVE_EXTRACT_MAX_MEMORY = 1024**3
#: Learn each site's template (text blocks repeated across its article pages) during the crawl,
#: keep it in the state store, and keep its blocks out of the article text (docs/notices.md).
NEWSARCHIVE_TEMPLATE_ENABLED = True
#: A block is template once seen on at least this many distinct article pages of the site...
NEWSARCHIVE_TEMPLATE_MIN_PAGES = 3
#: ... and on at least this share of the site's pages learned so far.
NEWSARCHIVE_TEMPLATE_MIN_SHARE = 0.25

#: Data out (issue 17): write ``report.html`` in the run folder at the end of every run.
NEWSARCHIVE_REPORT_ENABLED = True
#: Articles listed in ``report.html`` with their text (the charts and counts cover them all).
NEWSARCHIVE_REPORT_MAX_ARTICLES = 1000
#: Log a progress line (articles, pages/s, queue, notices, errors, time left) every
#: ``LOGSTATS_INTERVAL`` seconds, next to Scrapy's own counters.
NEWSARCHIVE_PROGRESS_ENABLED = True
#: Distributed crawling (issue 12): a Redis URL (``redis://host:6379/0``) whose shared queue,
#: duplicate filter and state the workers of one run (same NEWSARCHIVE_RUN_ID) use; empty = off.
NEWSARCHIVE_DISTRIBUTED = ""
#: This worker's id in a distributed run (file names, Redis); empty = ``<host>-<pid>``.
NEWSARCHIVE_WORKER_ID = ""
#: Seconds after its last heartbeat that a silent worker stops counting as alive.
NEWSARCHIVE_DISTRIBUTED_HEARTBEAT = 10.0
