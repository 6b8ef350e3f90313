"""The HTML of ``report.html``: one file, styles and charts inline, nothing fetched.

A Content-Security-Policy forbids every fetch (no script, no remote style, font or image), so the
page looks the same offline, from an archive, or years later. Numbers a test compares with the
manifest carry ``data-key`` (summary rows) or ``data-value`` (chart bars).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from newsarchive.report.charts import bar_chart, by_period, column_chart
from newsarchive.report.facts import OUTCOMES, Article, RunFacts

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:1em 2em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;text-align:left;
vertical-align:top;border-bottom:1px solid #eee}td.n,th.n{text-align:right;white-space:nowrap}
.status{display:inline-block;padding:.1em .6em;border-radius:.3em;color:#fff;background:#2a7}
.status.bad{background:#c33}.chart .bar{fill:#3b7dd8}.chart .label,.chart .value{font-size:12px;
fill:#333}.chart .axis{stroke:#999}.muted{color:#777}details{margin:.3em 0}
article{border-top:1px solid #eee;padding:.5em 0}article p{max-width:48em}.notice{color:#a50}
code{font-size:.9em}td.gap{width:2em;border:0}
"""


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def _cell(label: str, value: Any, key: str | None = None) -> str:
    """A label and its number (``data-key``: what a test compares with the manifest)."""
    attr = f' data-key="{escape(key)}"' if key else ""
    return f'<th>{escape(label)}</th><td class="n"{attr}>{_num(value)}</td>'


def _duration(manifest: dict[str, Any]) -> str:
    try:
        started = datetime.fromisoformat(manifest["started"])
        ended = datetime.fromisoformat(manifest["ended"])
    except (KeyError, TypeError, ValueError):
        return "?"
    seconds = int((ended - started).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = f"{rest // 60} min {rest % 60} s"
    return f"{hours} h {minutes}" if hours else minutes


def _when(value: Any) -> str:
    """An ISO time as ``2026-12-03 08:13:10`` (UTC), or what was there."""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


def summary(facts: RunFacts) -> str:
    m, s = facts.manifest, facts.stats
    counts = m.get("counts", {})
    warcs = m.get("warcs", [])
    acc = "newsarchive/accounting/"
    rows = [
        _cell("Articles written (items.jsonl lines)", facts.items, "items"),
        _cell("… of which new articles", counts.get("new", 0), "new"),
        _cell("… of which changed articles (a new version)", counts.get("changed", 0), "changed"),
        _cell("Known articles unchanged", counts.get("unchanged", 0), "unchanged"),
        _cell("Known articles not re-fetched", counts.get("known_skipped", 0), "known_skipped"),
        _cell("Legal notices found", sum(facts.notices.values()), "notices"),
        _cell("URLs discovered", int(s.get(acc + "discovered", 0)), "discovered"),
        _cell("URLs requested", int(s.get(acc + "requested", 0)), "requested"),
        _cell("URLs that failed (see Errors)", counts.get("failed", 0), "failed"),
        _cell("HTTP responses", int(s.get("downloader/response_count", 0)), "responses"),
        _cell("WARC response records", counts.get("response_records", 0), "response_records"),
        _cell("WARC revisit records", counts.get("revisit_records", 0), "revisit_records"),
        _cell("WARC files", len(warcs), "warc_files"),
        _cell("WARC bytes", sum(int(w.get("size", 0)) for w in warcs), "warc_bytes"),
        _cell("Started (UTC)", _when(m.get("started", "?"))),
        _cell("Ended (UTC)", _when(m.get("ended", "?"))),
        _cell("Duration", _duration(m)),
    ]
    if len(rows) % 2:
        rows.append("<th></th><td></td>")
    half = len(rows) // 2  # two columns of label and number, read top to bottom
    body = "".join(
        f"<tr>{a}<td class='gap'></td>{b}</tr>"
        for a, b in zip(rows[:half], rows[half:], strict=True)
    )
    return f'<table id="summary">{body}</table>'


def notices_table(facts: RunFacts) -> str:
    if not facts.notices:
        return '<p id="notices-empty">No article carried a legal notice.</p>'
    kinds = sorted({kind for _, kind in facts.notices})
    sites = sorted({site for site, _ in facts.notices})
    head = "".join(f'<th class="n">{escape(k)}</th>' for k in kinds)
    body = "".join(
        f"<tr><th>{escape(site)}</th>"
        + "".join(
            f'<td class="n" data-site="{escape(site)}" data-kind="{escape(k)}">'
            f"{facts.notices.get((site, k), 0):,}</td>"
            for k in kinds
        )
        + "</tr>"
        for site in sites
    )
    return f'<table id="notices"><tr><th>site</th>{head}</tr>{body}</table>'


def outcomes_section(facts: RunFacts) -> str:
    rows = [(OUTCOMES[name], count) for name, count in facts.outcomes]
    chart = bar_chart("chart-outcomes", "What became of every requested URL", rows, "URLs")
    details = []
    for name, count in facts.outcomes:
        reasons = "".join(
            f"<tr><td>{escape(reason)}</td><td class='n'>{n:,}</td></tr>"
            for reason, n in facts.outcome_reasons(name)
        )
        details.append(
            f"<details><summary>{escape(OUTCOMES[name])}: {count:,} URLs, by reason</summary>"
            f"<table>{reasons}</table></details>"
        )
    return chart + "".join(details)


def errors_section(facts: RunFacts) -> str:
    if not facts.errors:
        return '<p id="errors-empty">No URL failed.</p>'
    out = []
    for group in facts.errors:
        urls = "".join(
            f"<li><code>{escape(url)}</code> <span class='muted'>{escape(detail)}</span></li>"
            for url, detail in group.urls
        )
        more = group.count - len(group.urls)
        if more > 0:
            urls += f"<li class='muted'>… and {more:,} more in errors.jsonl</li>"
        out.append(
            f'<details open class="error-group" data-reason="{escape(group.reason)}" '
            f'data-value="{group.count}"><summary><b>{escape(group.reason)}</b> during '
            f"{escape(group.phase)}: {group.count:,} URLs</summary><ul>{urls}</ul></details>"
        )
    return "".join(out)


def files_section(facts: RunFacts) -> str:
    rows = "".join(
        f'<tr class="warc"><td><a href="{escape(w["file"])}">{escape(w["file"])}</a></td>'
        f'<td class="n" data-value="{int(w.get("size", 0))}">{int(w.get("size", 0)):,}</td>'
        f"<td><code>{escape(str(w.get('sha256', ''))[:16])}…</code></td></tr>"
        for w in facts.manifest.get("warcs", [])
    )
    others = [
        p.name
        for pattern in (
            "*.wacz",
            "items.jsonl",
            "urls.jsonl",
            "errors.jsonl",
            "manifest.json",
            "selfcheck.json",
        )
        for p in sorted(facts.folder.glob(pattern))
    ]
    others.append("stats.json")  # written by the run folder's summary right after this page
    links = " · ".join(f'<a href="{escape(n)}">{escape(n)}</a>' for n in others)
    return (
        '<table id="warcs"><tr><th>WARC file</th><th class="n">bytes</th><th>SHA-256</th></tr>'
        f"{rows}</table><p>Other files of the run: {links}</p>"
    )


def selfcheck_section(facts: RunFacts) -> str:
    check = facts.selfcheck
    if check is None:
        summary_line = facts.stats.get("newsarchive/selfcheck/summary")
        text = escape(summary_line) if summary_line else "The self-check did not run."
        return f'<p id="selfcheck">{text}</p>'
    passed = bool(check.get("passed"))
    problems = "".join(f"<li>{escape(str(p))}</li>" for p in check.get("problems", []))
    return (
        f'<p id="selfcheck" data-passed="{str(passed).lower()}"><span class="status'
        f'{"" if passed else " bad"}">{"passed" if passed else "FAILED"}</span> '
        f"{check.get('warcs', 0):,} WARC file(s), {check.get('records', 0):,} records verified "
        f"by warcio, {check.get('items_resolved', 0):,} of {check.get('items', 0):,} items "
        f"found at their WARC record, WACZ {'valid' if passed else 'checked'} "
        f"({check.get('wacz_bytes', 0):,} bytes).</p>"
        + (f"<ul>{problems}</ul>" if problems else "")
    )


def _warc_link(article: Article) -> str:
    w = article.warc
    if not w:
        return '<span class="muted">none</span>'
    return (
        f'<a href="{escape(str(w.get("filename", "")))}" title="{escape(str(w.get("record_id")))}"'
        f' class="warc-record" data-offset="{w.get("offset")}">{escape(str(w.get("filename")))}'
        f"</a> at byte {w.get('offset', 0):,} ({w.get('length', 0):,} bytes)"
    )


def articles_section(facts: RunFacts) -> str:
    if not facts.articles:
        return '<p id="articles-empty">This run wrote no article.</p>'
    rows = "".join(
        f'<tr class="article"><td class="n">{a.number}</td><td><a href="#text-{a.number}">'
        f"{escape(a.title)}</a></td><td>{escape(a.site)}</td>"
        f"<td>{escape((a.published or '')[:16].replace('T', ' '))}</td>"
        f'<td class="n">{a.version if a.version is not None else ""}</td>'
        f"<td>{_warc_link(a)}</td></tr>"
        for a in facts.articles
    )
    more = facts.items - len(facts.articles)
    note = f"<p class='muted'>… and {more:,} more in items.jsonl.</p>" if more > 0 else ""
    texts = "".join(_article_text(a) for a in facts.articles)
    return (
        '<table id="articles"><tr><th class="n">#</th><th>title (to its text)</th><th>site</th>'
        '<th>published (UTC)</th><th class="n">version</th><th>WARC record</th></tr>'
        f"{rows}</table>{note}<h2>Article texts</h2>{texts}"
    )


def _article_text(a: Article) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in a.text.split("\n\n") if p.strip())
    notice = f'<p class="notice">Legal notice: {escape(a.notice)}</p>' if a.notice else ""
    return (
        f'<article id="text-{a.number}"><h3>{escape(a.title)}</h3><p class="muted">'
        f'<a href="{escape(a.url)}">{escape(a.url)}</a> · WARC: {_warc_link(a)}</p>'
        f"{notice}{paragraphs}</article>"
    )


def render(facts: RunFacts) -> str:
    m = facts.manifest
    run_id = m.get("run_id", facts.folder.name)
    spider = m.get("spider", facts.folder.parent.name)
    status = str(m.get("status", "unknown"))
    bad = status != "finished"
    failures = ", ".join(m.get("failures") or [])
    period, days = by_period(facts.per_day)
    undated = facts.per_day.get("", 0)
    sites = sorted(facts.per_site.items(), key=lambda kv: (-kv[1], kv[0]))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy"'
        f' content="{CSP}"><title>Crawl report: {escape(spider)} run {escape(run_id)}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{STYLE}</style></head><body>'
        f"<h1>Crawl report: {escape(spider)}, run {escape(run_id)}</h1>"
        f'<p>Status: <span id="status" class="status{" bad" if bad else ""}">{escape(status)}'
        f"</span> (finish reason: {escape(str(m.get('finish_reason', '?')))})"
        + (f" — the run failed: {escape(failures)}" if failures else "")
        + "</p><h2>Summary</h2>"
        + summary(facts)
        + "<h2>Articles per site</h2>"
        + bar_chart("chart-sites", "Articles written per site", sites, "articles")
        + f"<h2>Articles per publication {period}</h2>"
        + column_chart("chart-days", f"Articles per publication {period}", days, "articles")
        + (
            f"<p class='muted'>{undated:,} article(s) without a publication date.</p>"
            if undated
            else ""
        )
        + "<h2>Legal notices by kind and site</h2>"
        + notices_table(facts)
        + "<h2>What became of every requested URL</h2>"
        + outcomes_section(facts)
        + "<h2>Errors, by reason</h2>"
        + errors_section(facts)
        + "<h2>WARC files</h2>"
        + files_section(facts)
        + "<h2>Self-check</h2>"
        + selfcheck_section(facts)
        + "<h2>Articles</h2>"
        + articles_section(facts)
        + (
            f"<p class='muted'>{facts.unreadable_lines} unreadable line(s) were skipped.</p>"
            if facts.unreadable_lines
            else ""
        )
        + "</body></html>\n"
    )
