"""W3C / ISO 8601 date parsing that survives real sitemaps.

Real Pangea sitemaps carry 0 to 7 fractional-second digits (``2025-04-20T17:38:23.4598287Z``),
which ``strptime`` rejects; this parser accepts any number and keeps microseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_W3C = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}:?\d{2})?)?\s*$"
)


def parse_w3c_datetime(value: str | None) -> datetime | None:
    """Parse a W3C datetime (date only, any fractional digits, Z or offset) to aware UTC.

    Naive times are taken as UTC. Returns None for empty or unparseable values and for the
    ``0001-01-01`` sentinel some CMSs use for "no date".
    """
    if not value:
        return None
    match = _W3C.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, tz = match.groups()
    if int(year) <= 1:
        return None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tzinfo = UTC
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        tzinfo = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tzinfo,
        )
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def parse_day(value: str) -> date:
    """Parse a ``YYYY-MM-DD`` argument, with an error message that names the expected form."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from exc


def iso_utc(moment: datetime | None) -> str | None:
    """Format as ``YYYY-MM-DDTHH:MM:SSZ`` (seconds precision, UTC) or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
