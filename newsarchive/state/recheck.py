"""When a known article is checked again as it ages, and which of the due ones this run takes.

An article is edited most in its first hours and rarely after a month, so the re-checks thin out
with age: one after each step of a schedule (``1h,6h,1d,3d,7d,30d`` after publication, then
never). A step is due when its moment has passed and the article was last checked before it;
checks missed by a few runs collapse into one. A run takes at most a budget of the due articles,
most overdue first; the rest stay due (their last check did not move) and carry over. Moments
come from the caller (``now``), so the schedule is tested with a clock the tests control.
Scrapy-free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsarchive.state.rows import ArticleState

#: The default schedule (``NEWSARCHIVE_RECHECK_SCHEDULE``): steps after publication.
DEFAULT_SCHEDULE = "1h,6h,1d,3d,7d,30d"
_STEP = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: ``-a recheck=`` values: the schedule (default), every known article once, none.
MODES = ("schedule", "all", "none")


def parse_schedule(text: str | Iterable[str], setting: str = "NEWSARCHIVE_RECHECK_SCHEDULE"):
    """``"1h, 6h, 1d"`` (or a list of such steps) as sorted :class:`timedelta` steps.

    Units: ``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks. An empty schedule re-checks
    nothing by age.
    """
    parts = text.split(",") if isinstance(text, str) else list(text)
    steps: list[timedelta] = []
    for part in parts:
        word = str(part).strip().lower()
        if not word:
            continue
        match = _STEP.match(word)
        if match is None:
            raise ValueError(
                f"{setting}: {part!r} is not a step; write a number and a unit "
                "(m, h, d or w), e.g. 1h,6h,1d,3d,7d,30d"
            )
        steps.append(timedelta(**{_UNITS[match.group(2)]: float(match.group(1))}))
    return tuple(sorted(steps))


def recheck_mode(value: str | None) -> str:
    """The spider argument ``-a recheck=``: ``all``, ``0``/``none``/``off``, or the schedule."""
    word = str(value or "").strip().lower()
    if word in ("", "schedule", "1", "yes", "on", "true"):
        return "schedule"
    if word == "all":
        return "all"
    if word in ("0", "no", "none", "off", "false"):
        return "none"
    raise ValueError(f"-a recheck={value}: give all, 0, or leave it out (the age schedule)")


def due_at(state: ArticleState, schedule: tuple[timedelta, ...]) -> datetime | None:
    """The moment the article's next re-check falls due (None: never again, or no age known).

    Age counts from publication, else from the first fetch. The next step is the first one
    after the last check (:attr:`ArticleState.last_check`); a step already past is due at once.
    """
    base = state.published or state.first_seen
    last = state.last_check
    if base is None or last is None:
        return None
    for step in schedule:
        moment = base + step
        if moment > last:
            return moment
    return None


@dataclass(frozen=True)
class RecheckPlan:
    """What this run re-checks: ``articles`` (most overdue first) of ``due`` due ones."""

    articles: tuple[ArticleState, ...] = ()
    due: int = 0

    @property
    def carried_over(self) -> int:
        """Due articles left for the next run (over the budget)."""
        return self.due - len(self.articles)


def plan_rechecks(
    candidates: Iterable[ArticleState],
    *,
    mode: str,
    now: datetime,
    schedule: tuple[timedelta, ...],
    budget: int,
    wanted: Callable[[ArticleState], bool] = lambda state: True,
) -> RecheckPlan:
    """The articles of ``candidates`` to re-check now.

    ``schedule`` mode: those due by ``now``, at most ``budget`` (0: none), most overdue first.
    ``all``: every candidate once, whatever its age, without a budget (an explicit request).
    ``none``: nothing. ``wanted`` keeps the articles this crawl covers (its sites).
    """
    if mode == "none":
        return RecheckPlan()
    if mode == "all":
        chosen = tuple(c for c in candidates if wanted(c))
        return RecheckPlan(articles=chosen, due=len(chosen))
    due: list[tuple[datetime, str, ArticleState]] = []
    for state in candidates:
        moment = due_at(state, schedule)
        if moment is not None and moment <= now and wanted(state):
            due.append((moment, state.article_id, state))
    due.sort(key=lambda entry: (entry[0], entry[1]))
    return RecheckPlan(articles=tuple(state for _, _, state in due[: max(0, budget)]), due=len(due))
