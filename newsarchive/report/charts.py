"""Inline SVG charts: drawn here, in the page, so the report needs no script and no network.

Every bar carries ``data-label`` and ``data-value`` (what a test, or a curious reader with the
inspector, can check against the counts) and a ``<title>`` that a browser shows on hover.
"""

from __future__ import annotations

from datetime import date
from html import escape

BAR_HEIGHT = 20
GAP = 6
LABEL_WIDTH = 260
BAR_AREA = 360
COLUMN_CHART_WIDTH = 720
COLUMN_CHART_HEIGHT = 180
MAX_COLUMN_WIDTH = 40.0
#: More days than this are drawn per month (a backfill since 2012 has thousands).
MAX_DAYS = 92


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, int]], unit: str) -> str:
    """Horizontal bars, one per ``(label, value)``, longest first as given."""
    if not rows:
        return f'<p class="empty" id="{escape(chart_id)}-empty">None.</p>'
    top = max(value for _, value in rows) or 1
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_AREA + 80
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = GAP + i * (BAR_HEIGHT + GAP)
        bar = max(1.0, BAR_AREA * value / top) if value else 0.0
        text_y = y + BAR_HEIGHT * 0.72
        parts += [
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{text_y:.1f}" '
            f'text-anchor="end">{escape(_short(label, 38))}</text>',
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{bar:.1f}" '
            f'height="{BAR_HEIGHT}" data-label="{escape(label)}" data-value="{value}">'
            f"<title>{escape(label)}: {value:,} {escape(unit)}</title></rect>",
            f'<text class="value" x="{LABEL_WIDTH + bar + 6:.1f}" y="{text_y:.1f}">'
            f"{value:,}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)


def by_period(per_day: dict[str, int]) -> tuple[str, list[tuple[str, int]]]:
    """(``day`` or ``month``, sorted (period, count)), every day or month of the span present."""
    days = sorted(d for d in per_day if d)
    if not days:
        return "day", []
    if len(days) <= MAX_DAYS and _span_days(days[0], days[-1]) <= MAX_DAYS:
        return "day", [(d, per_day[d]) for d in days]
    months: dict[str, int] = {}
    for day in days:
        months[day[:7]] = months.get(day[:7], 0) + per_day[day]
    return "month", sorted(months.items())


def _span_days(first: str, last: str) -> int:
    try:
        return (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    except ValueError:
        return MAX_DAYS + 1


def column_chart(chart_id: str, title: str, rows: list[tuple[str, int]], unit: str) -> str:
    """Vertical columns in time order, the first, middle and last periods labelled."""
    if not rows:
        return f'<p class="empty" id="{escape(chart_id)}-empty">No publication dates.</p>'
    top = max(value for _, value in rows) or 1
    plot = COLUMN_CHART_HEIGHT - 40
    step = COLUMN_CHART_WIDTH / len(rows)
    width = min(MAX_COLUMN_WIDTH, max(1.0, step * 0.8))
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" width="{COLUMN_CHART_WIDTH + 40}" '
        f'height="{COLUMN_CHART_HEIGHT}" viewBox="0 0 {COLUMN_CHART_WIDTH + 40} '
        f'{COLUMN_CHART_HEIGHT}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text class="value" x="0" y="12">{top:,}</text>',
        f'<line class="axis" x1="20" y1="{plot + 16}" x2="{COLUMN_CHART_WIDTH + 20}" '
        f'y2="{plot + 16}"/>',
    ]
    labelled = {0, len(rows) // 2, len(rows) - 1}
    for i, (label, value) in enumerate(rows):
        h = max(1.0, plot * value / top) if value else 0.0
        x = 20 + i * step
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{plot + 16 - h:.1f}" width="{width:.1f}" '
            f'height="{h:.1f}" data-label="{escape(label)}" data-value="{value}">'
            f"<title>{escape(label)}: {value:,} {escape(unit)}</title></rect>"
        )
        if i in labelled:
            parts.append(
                f'<text class="label" x="{x + width / 2:.1f}" y="{plot + 32}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
