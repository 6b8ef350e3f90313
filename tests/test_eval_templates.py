"""The harness's site-template measurement: a publisher's promo line learned from its pages
leaves their text, and the body scores say so."""

from __future__ import annotations

import hashlib
import json

from newsarchive.eval.__main__ import main as eval_main
from newsarchive.eval.templates import format_rows, template_effect
from tests.test_eval import PARAGRAPHS, write_gz

PROMO = "Get our morning newsletter delivered to your inbox every weekday, free of charge."


def page(number: int) -> bytes:
    body = "".join(f"<p>{p} ({number})</p>" for p in PARAGRAPHS[:2])
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Story {number}</title><meta property="og:type" content="article"></head><body>
<article><h1>Story {number}</h1>{body}<p>{PROMO}</p>
<p>{PARAGRAPHS[2]} ({number})</p></article></body></html>""".encode()


def corpora(tmp_path, pages: int):
    root = tmp_path / "corpora"
    bench = root / "article-extraction-benchmark"
    truth = {}
    for n in range(pages):
        url = f"https://news.example.org/2024/05/story-{n}"
        key = hashlib.sha256(url.encode()).hexdigest()
        write_gz(bench / "html" / f"{key}.html.gz", page(n))
        text = [f"{p} ({n})" for p in PARAGRAPHS[:2]] + [f"{PARAGRAPHS[2]} ({n})"]
        truth[key] = {"url": url, "articleBody": "\n\n".join(text)}
    (bench / "ground-truth.json").write_text(json.dumps(truth), "utf-8")
    (root / "fundus-parser-testdata").mkdir()
    (root / "fundus-parser-testdata" / "INDEX.jsonl").write_text("", "utf-8")
    (root / "rferl" / "pangea-pages").mkdir(parents=True)
    return root


def test_learned_promo_leaves_the_text_of_a_three_page_publisher(tmp_path):
    rows = template_effect(corpora(tmp_path, 3))
    default, loose = rows[0], rows[1]
    assert (default.min_pages, default.publishers, default.pages) == (3, 1, 3)
    assert default.before[0] < 1.0
    assert default.after[0] == 1.0 and default.after[1] == 1.0
    assert (default.pages_changed, default.blocks_removed) == (3, 3)
    assert loose.after == default.after
    assert "| article-extraction-benchmark | 3 | 1 (3) |" in format_rows(rows)


def test_two_pages_are_below_the_default_rule(tmp_path):
    default, loose = template_effect(corpora(tmp_path, 2))[:2]
    assert (default.pages, default.pages_changed) == (0, 0)
    assert (loose.pages, loose.pages_changed, loose.after[0]) == (2, 2, 1.0)


def test_cli_prints_the_template_table(tmp_path, capsys):
    root = corpora(tmp_path, 3)
    assert eval_main(["--corpora", str(root), "--workers", "1", "--templates"]) == 0
    out = capsys.readouterr().out
    assert "rule: min pages" in out and "| article-extraction-benchmark | 3 | 1 (3) |" in out
