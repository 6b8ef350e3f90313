"""Spider arguments (``-a name=value``) read strictly, with errors a user can act on.

A misspelt argument must not be read as its default: ``-a full=ture`` silently crawling
incrementally, or ``-a sites=svobodda`` failing with 44 host names and no hint, costs a run.
Every parser here raises :class:`ArgumentError`, whose message is one line naming the argument
and what it accepts; ``scrapy crawl`` prints it and exits 2 (usage), with no traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date
from typing import Any

from newsarchive import default_settings
from newsarchive.discovery.dates import parse_day

#: The spellings of yes and no (``-a full=1``, ``-a feeds=off``).
YES = ("1", "true", "yes", "on")
NO = ("0", "false", "no", "off")
#: Exit status of a command given arguments it cannot use (``EX_USAGE`` is 64; Scrapy, argparse
#: and the shell use 2).
EXIT_USAGE = 2


class ArgumentError(ValueError):
    """A spider argument (or sites-file entry) that cannot be used; the message says which and
    what is accepted, in one line."""


def parse_flag(name: str, value: object, default: bool) -> bool:
    """A yes/no argument; empty keeps ``default``, an unknown spelling is an error."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if not word:
        return default
    if word in YES:
        return True
    if word in NO:
        return False
    raise ArgumentError(
        f"-a {name}={value}: expected yes or no ({'/'.join(YES)} or {'/'.join(NO)})"
    )


def parse_since(name: str, value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` day, or None when not given."""
    if value is None or not str(value).strip():
        return None
    try:
        return parse_day(str(value))
    except ValueError:
        raise ArgumentError(
            f"-a {name}={value}: expected a date as YYYY-MM-DD, e.g. 2025-01-31"
        ) from None


def closest(word: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The known ``names`` most like ``word`` (for "did you mean ...?")."""
    return difflib.get_close_matches(word.lower(), sorted(set(names)), n=n, cutoff=0.6)


def check_known(spider: str, given: Iterable[str], known: Iterable[str]) -> None:
    """Refuse an argument the spider does not take (``-a sitess=...`` would otherwise be an
    attribute nobody reads). Names starting with ``_`` (scrapyd's ``_job``) are let through."""
    known = list(known)
    for name in given:
        if name.startswith("_") or name in known:
            continue
        hint = closest(name, known, n=1)
        guess = f"did you mean {hint[0]}? " if hint else ""
        raise ArgumentError(
            f"-a {name}: not an argument of spider {spider!r}; {guess}it takes {', '.join(known)}"
        )


def requisites_wanted(crawler: Any) -> bool:
    """``NEWSARCHIVE_REQUISITES_ENABLED``, or the spider's ``-a requisites=1`` (read by the
    requisite middlewares and the distributed extension alike)."""
    if crawler.settings.getbool(
        "NEWSARCHIVE_REQUISITES_ENABLED", default_settings.NEWSARCHIVE_REQUISITES_ENABLED
    ):
        return True
    return str(getattr(crawler.spider, "requisites", "")).strip().lower() in YES
