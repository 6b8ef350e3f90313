"""The age-based re-check schedule, on a real state store, with a clock the tests hold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from newsarchive.state.recheck import (
    due_at,
    parse_schedule,
    plan_rechecks,
    recheck_mode,
)
from newsarchive.state.redisstore import RedisStateStore, state_prefix
from newsarchive.state.rows import ArticleState, FetchRecord
from newsarchive.state.store import StateStore
from tests.distributed_helpers import redis_server

PUBLISHED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SCHEDULE = parse_schedule("1h,6h,1d,3d,7d,30d")


def test_parse_schedule_sorts_steps_and_names_the_setting_on_error():
    assert parse_schedule("1d, 1h,30m,2w") == (
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(days=1),
        timedelta(weeks=2),
    )
    assert parse_schedule("") == ()
    assert parse_schedule(["6h", "1h"]) == (timedelta(hours=1), timedelta(hours=6))
    with pytest.raises(ValueError, match="NEWSARCHIVE_RECHECK_SCHEDULE: '1 day'"):
        parse_schedule("1h,1 day")


def test_recheck_mode():
    assert recheck_mode(None) == recheck_mode("") == "schedule"
    assert recheck_mode("ALL") == "all"
    assert recheck_mode("0") == recheck_mode("off") == "none"
    with pytest.raises(ValueError, match="-a recheck=sometimes"):
        recheck_mode("sometimes")


def state(last_fetch: datetime, published: datetime | None = PUBLISHED, **kw) -> ArticleState:
    return ArticleState(article_id=kw.pop("key", "1"), published=published,
                        last_fetch=last_fetch, version=1, **kw)  # fmt: skip


@pytest.mark.parametrize(
    ("fetched_after", "next_step"),
    [
        (timedelta(minutes=5), timedelta(hours=1)),
        (timedelta(hours=1), timedelta(hours=6)),  # checked exactly at a step: the next one
        (timedelta(hours=2), timedelta(hours=6)),
        (timedelta(days=2), timedelta(days=3)),
        (timedelta(days=29), timedelta(days=30)),
        (timedelta(days=31), None),  # past the last step: never again
    ],
)
def test_next_recheck_is_the_first_step_after_the_last_check(fetched_after, next_step):
    want = PUBLISHED + next_step if next_step is not None else None
    assert due_at(state(PUBLISHED + fetched_after), SCHEDULE) == want


def test_age_counts_from_first_fetch_without_publication_date():
    first = datetime(2026, 3, 1, tzinfo=UTC)
    undated = state(first + timedelta(minutes=1), published=None, first_seen=first)
    assert due_at(undated, SCHEDULE) == first + timedelta(hours=1)
    assert due_at(state(first, published=None), SCHEDULE) is None  # no age at all


def test_missed_steps_collapse_into_one_check():
    # Fetched 5 minutes after publication, no run for 10 days: due now (its 1h step), once;
    # after that check, the next step is 30 days.
    article = state(PUBLISHED + timedelta(minutes=5))
    now = PUBLISHED + timedelta(days=10)
    assert due_at(article, SCHEDULE) <= now
    checked = state(now)
    assert due_at(checked, SCHEDULE) == PUBLISHED + timedelta(days=30)


@pytest.fixture(params=["sqlite", "redis"])
def any_store(request, tmp_path: Path) -> Iterator[StateStore | RedisStateStore]:
    """The SQLite store, and the Redis one a distributed crawl uses (a real redis-server)."""
    if request.param == "sqlite":
        store = StateStore(tmp_path / "state.sqlite")
        yield store
        store.close()
        return
    with redis_server(tmp_path / "redis") as url:
        client = redis.Redis.from_url(url)
        try:
            yield RedisStateStore(client, state_prefix("rferl"))
        finally:
            client.close()


def settle(
    store: StateStore | RedisStateStore, key: str, fetched: datetime, published: datetime | None
) -> None:
    store.record_fetch(
        key,
        FetchRecord(url=f"https://example.org/{key}", fetched_at=fetched),
        item_digest="sha256:x",
        version=1,
        published=published,
    )


def test_budget_takes_the_most_overdue_and_carries_the_rest_over(any_store):
    store = any_store
    # Ten articles fetched 10 minutes after publication, published an hour apart.
    for n in range(10):
        published = PUBLISHED + timedelta(hours=n)
        settle(store, f"a{n}", published + timedelta(minutes=10), published)
    store.record_fetch("hub", FetchRecord(url="https://example.org/", fetched_at=PUBLISHED))
    clock = PUBLISHED + timedelta(hours=5, minutes=30)

    def plan(now):
        return plan_rechecks(store.versioned_articles(), mode="schedule", now=now,
                             schedule=SCHEDULE, budget=3)  # fmt: skip

    first = plan(clock)
    # a0..a4 are past their 1h step; a5 is not (published 5h after a0).
    assert first.due == 5 and first.carried_over == 2
    assert [s.article_id for s in first.articles] == ["a0", "a1", "a2"]
    for article in first.articles:  # this run checks them (a 304, say)
        store.record_not_modified(article.article_id, clock, None, None)
    second = plan(clock + timedelta(minutes=30))
    # The two carried over come first; at 6h both a0's 6h step and a5's 1h step fell due
    # (a tie, broken by key), so a5 carries over.
    assert [s.article_id for s in second.articles] == ["a3", "a4", "a0"]
    assert second.due == 4 and second.carried_over == 1
    # recheck=all: every article that gave an item, no budget, whatever its age.
    everything = plan_rechecks(store.versioned_articles(), mode="all", now=clock,
                               schedule=SCHEDULE, budget=3)  # fmt: skip
    assert len(everything.articles) == 10 and "hub" not in {
        s.article_id for s in everything.articles
    }
    assert plan_rechecks(store.versioned_articles(), mode="none", now=clock,
                         schedule=SCHEDULE, budget=3).articles == ()  # fmt: skip
    only_odd = plan_rechecks(store.versioned_articles(), mode="schedule", now=clock,
                             schedule=SCHEDULE, budget=10,
                             wanted=lambda s: s.article_id in ("a2", "a4"))  # fmt: skip
    assert [s.article_id for s in only_odd.articles] == ["a4"]  # a2 was just checked


def test_removal_is_remembered_and_a_new_item_ends_it(any_store):
    store = any_store
    settle(store, "a", PUBLISHED, PUBLISHED)
    gone = PUBLISHED + timedelta(days=2)
    store.record_removed("a", gone, "http_410", "r2")
    store.record_removed("a", gone + timedelta(days=1), "http_404", "r3")
    article = store.article("a")
    assert article.removed == gone and article.removed_reason == "http_404"
    assert article.last_fetch == gone + timedelta(days=1) and article.version == 1
    store.record_fetch(
        "a",
        FetchRecord(url="https://example.org/a", fetched_at=gone + timedelta(days=3)),
        item_digest="sha256:y",
        version=2,
        fingerprint={"v": 1},
        hints={"discovered_from": "https://example.org/sitemap.xml"},
    )
    back = store.article("a")
    assert back.removed is None and back.removed_reason is None and back.version == 2
    assert back.fingerprint == {"v": 1}
    assert back.hints == {"discovered_from": "https://example.org/sitemap.xml"}
    assert back.first_seen == PUBLISHED
    store.mark_rechecked("a", gone + timedelta(days=9))
    assert store.article("a").rechecked == gone + timedelta(days=9)
    store.add_alias("url:other-form", "a")
    assert store.aliases_of("a") == ["url:other-form"]


def test_the_schedules_clock_counts_as_a_check():
    # Fetched (really) before the 7d step; re-checked under a clock set past it: not due again
    # until the 30d step, though the real fetch time is still before the 7d step.
    article = state(PUBLISHED + timedelta(days=2), rechecked=PUBLISHED + timedelta(days=8))
    assert article.last_check == PUBLISHED + timedelta(days=8)
    assert due_at(article, SCHEDULE) == PUBLISHED + timedelta(days=30)
