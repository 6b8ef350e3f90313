"""Timestamps as publishers write them, normalised to ISO 8601 UTC (``YYYY-MM-DDTHH:MM:SSZ``).

Pangea alone writes three shapes (``"2024-04-28 07:00:00Z"`` with a space in JSON-LD, local time
with an offset in ``time[datetime]``, date-only ``"2019-11-18"``), fractions run from 0 to 7 digits
(more than ``strptime``'s ``%f`` takes), and ``"0001-01-01 00:00:00Z"`` is a "no date" sentinel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

_ISO = re.compile(
    r"""^\s*
    (?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})
    (?:
        [T\s]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?
        \s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?
    )?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_ENGLISH = re.compile(r"^\s*(?P<month>[a-z]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})\s*$", re.I)
#: Years outside this range are sentinels (``0001-01-01``) or typos, never real news dates.
_PLAUSIBLE_YEARS = range(1900, 2200)


@dataclass(frozen=True)
class Stamp:
    """A normalised timestamp; ``date_only`` stamps carry midnight UTC and lose to precise ones."""

    iso: str
    date_only: bool = False

    @property
    def day(self) -> str:
        return self.iso[:10]


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset(value: str | None) -> timezone:
    if not value or value.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_stamp(value: object) -> Stamp | None:
    """Parse an ISO-like timestamp; naive times are taken as UTC. None for sentinels and junk."""
    if not isinstance(value, str):
        return None
    match = _ISO.match(value)
    if match is None:
        return None
    parts = match.groupdict()
    try:
        year, month, day = int(parts["year"]), int(parts["month"]), int(parts["day"])
        if year not in _PLAUSIBLE_YEARS:
            return None
        if parts["hour"] is None:
            return Stamp(f"{date(year, month, day).isoformat()}T00:00:00Z", date_only=True)
        moment = datetime(
            year,
            month,
            day,
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
            tzinfo=_offset(parts["tz"]),
        )
    except ValueError:
        return None
    return Stamp(_format(moment))


def parse_english_date(value: str | None) -> Stamp | None:
    """``January 18, 2013`` (the legacy Pangea ``p.article_date``) as a date-only stamp."""
    match = _ENGLISH.match(value or "")
    if match is None:
        return None
    month = _MONTHS.get(match["month"].lower())
    if month is None:
        return None
    return parse_stamp(f"{match['year']}-{month:02d}-{int(match['day']):02d}")


def best_stamp(candidates: list[Stamp | None]) -> Stamp | None:
    """The first stamp in priority order, refined by a later precise stamp of the same day.

    A date-only value (polygraph's JSON-LD ``"2019-11-18"``) says less than a later source's
    ``time[datetime]``; that one wins when it falls within a day of it (time zones), else the
    date-only value stands.
    """
    present = [stamp for stamp in candidates if stamp is not None]
    if not present:
        return None
    first = present[0]
    if not first.date_only:
        return first
    day = date.fromisoformat(first.day)
    for stamp in present[1:]:
        if not stamp.date_only and abs((date.fromisoformat(stamp.day) - day).days) <= 1:
            return stamp
    return first
