"""The spiders' side of the age-based re-check: which known articles this run asks about again.

At spider open the plan is made from the state store (:func:`newsarchive.state.recheck.
plan_rechecks`: ``-a recheck=all``, ``-a recheck=0`` or the schedule within the budget, for the
spider's own hosts). A planned article that discovery lists anyway is requested there, with the
listing's hints (:meth:`RecheckMixin.take_recheck`); the rest are requested when discovery is
done (``spider_idle``), from the state: the stored URL and the hints the last fetch had, so an
unchanged article extracts to the same item. Both go through the conditional and removal
middlewares like any request for a known article.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.url import url_is_from_any_domain

from newsarchive import default_settings, metakeys
from newsarchive.arguments import ArgumentError
from newsarchive.state.recheck import RecheckPlan, parse_schedule, plan_rechecks, recheck_mode
from newsarchive.state.rows import ArticleState, parse_iso
from newsarchive.state.session import state_for


class RecheckMixin:
    """Plan and request the re-checks of one run (needs ``scrapy.Spider``)."""

    crawler: scrapy.crawler.Crawler
    settings: scrapy.settings.BaseSettings
    #: ``-a recheck=all`` / ``-a recheck=0``; unset: the age schedule.
    recheck: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:  # a bad value fails before any request, as every spider argument does
            self.recheck_mode = recheck_mode(self.recheck)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)  # type: ignore[misc]
        crawler.signals.connect(spider.plan_recheck, signal=signals.spider_opened)
        crawler.signals.connect(spider.request_rechecks, signal=signals.spider_idle)
        crawler.signals.connect(spider.recheck_answered, signal=signals.response_received)
        return spider

    def plan_recheck(self, spider: scrapy.Spider) -> None:
        """Decide what this run re-checks (at open: before any fetch moves a last-check time)."""
        self._recheck_pending: dict[str, ArticleState] = {}
        #: Planned articles requested, not answered yet; and the schedule's clock.
        self._recheck_asked: set[str] = set()
        store = state_for(self.crawler)
        if store is None:
            return
        settings = self.settings
        now_text = settings.get("NEWSARCHIVE_RECHECK_NOW", default_settings.NEWSARCHIVE_RECHECK_NOW)
        now = parse_iso(now_text) if now_text else datetime.now(UTC)
        if now is None:
            raise ValueError(
                f"NEWSARCHIVE_RECHECK_NOW={now_text!r}: give an ISO 8601 moment "
                "(2026-12-01T12:00:00Z) or leave it empty"
            )
        self._recheck_now = now
        domains = list(getattr(self, "allowed_domains", None) or [])
        plan: RecheckPlan = plan_rechecks(
            store.versioned_articles(),
            mode=self.recheck_mode,
            now=now,
            schedule=parse_schedule(
                settings.get(
                    "NEWSARCHIVE_RECHECK_SCHEDULE", default_settings.NEWSARCHIVE_RECHECK_SCHEDULE
                )
            ),
            budget=settings.getint(
                "NEWSARCHIVE_RECHECK_BUDGET", default_settings.NEWSARCHIVE_RECHECK_BUDGET
            ),
            wanted=lambda s: (
                bool(s.url) and (not domains or url_is_from_any_domain(s.url, domains))
            ),
        )
        self._recheck_pending = {state.article_id: state for state in plan.articles}
        stats = self.crawler.stats
        stats.set_value("newsarchive/recheck/due", plan.due)
        stats.set_value("newsarchive/recheck/planned", len(plan.articles))
        stats.set_value("newsarchive/recheck/carried_over", plan.carried_over)

    def take_recheck(self, known: ArticleState | None) -> bool:
        """True (once) when discovery meets an article this run re-checks: request it now."""
        pending = getattr(self, "_recheck_pending", {})
        if known is None or pending.pop(known.article_id, None) is None:
            return False
        self._recheck_asked.add(known.article_id)
        self.crawler.stats.inc_value("newsarchive/recheck/from_discovery")
        return True

    def recheck_answered(self, response, request: scrapy.Request, spider: scrapy.Spider) -> None:
        """A planned article answered (any way): not due again until its next step, by the
        schedule's clock. One that failed to download stays due."""
        asked = getattr(self, "_recheck_asked", None)
        key = metakeys.request_key(request.meta)
        store = state_for(self.crawler)
        if not asked or key is None or store is None:
            return
        key = store.resolve(key)
        if key in asked:
            asked.discard(key)
            store.mark_rechecked(key, self._recheck_now)

    def request_rechecks(self, spider: scrapy.Spider) -> None:
        """Discovery is done: request the planned articles it did not list."""
        pending = getattr(self, "_recheck_pending", {})
        if not pending:
            return
        self._recheck_pending = {}
        maxsize = self.settings.getint(
            "NEWSARCHIVE_ARTICLE_MAXSIZE", default_settings.NEWSARCHIVE_ARTICLE_MAXSIZE
        )
        assert self.crawler.engine is not None
        for key, state in pending.items():
            assert state.url is not None  # plan_rechecks keeps only articles with a URL
            request = scrapy.Request(
                state.url,
                callback=self.parse_article,  # type: ignore[attr-defined]
                errback=self.fetch_failed,  # type: ignore[attr-defined]
                meta={
                    metakeys.HINTS: dict(state.hints or {}),
                    metakeys.ARTICLE_KEY: key,
                    metakeys.RECHECK: key,
                    "download_maxsize": maxsize,  # also caps decompression (bombs)
                },
                # Through the duplicate filter: in a distributed run every worker plans the
                # same re-checks, and the shared filter lets one of them fetch each.
            )
            self._recheck_asked.add(key)
            self.crawler.engine.crawl(request)
            self.crawler.stats.inc_value("newsarchive/recheck/requested")
        raise DontCloseSpider
