"""A crawl of several RFE/RL services, each printing its legal notice in a wording the code has
never seen (after the body, in the footer, at the top), plus articles that report designations.

The site is written into ``tmp_path`` by this module (Pangea pages, robots.txt, sitemap index and
a Google News sitemap per host) and served by the web double; the unmodified ``rferl`` spider
crawls it. Measured over every article: notice precision = recall = 1 and no notice sentence in
any text. A promo box inside the body of one service is learned as that service's template:
it stays in exactly ``MIN_PAGES - 1`` items of the first run, and in none of the next run's,
which starts from the state store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsarchive import default_settings as defaults
from newsarchive.extraction.notices import normalize
from tests.crawl_helpers import REPO, run_crawl
from tests.notice_paraphrases import FOREIGN_AGENT_LABELS, PARAPHRASES, REPORTING, sentences

pytestmark = pytest.mark.slow

PROMO = "Подпишитесь на наш канал в Telegram, чтобы не пропускать главные новости Сибири."
WORDS = {
    "ru": ("Жители посёлка", "обсуждают новый выпуск"),
    "uk": ("Мешканці селища", "обговорюють новий випуск"),
    "be": ("Жыхары пасёлка", "абмяркоўваюць новы выпуск"),
    "en": ("Residents of the town", "discuss the new issue"),
}


@dataclass(frozen=True)
class Service:
    host: str
    language: str
    notice: str | None  # a key of PARAPHRASES
    place: str | None  # after-body, footer, top-of-body, top-of-text, banner
    location: str | None  # what legal_notice.location must say
    label: bool = False  # the foreign-agent label at the top too
    promo: bool = False  # a promo box in the middle of the body


SERVICES = (
    Service("www.sibreal.org", "ru", "ru", "after-body", "after-body", label=True, promo=True),
    Service("www.radiosvoboda.org", "uk", "uk", "footer", "footer"),
    Service("www.svaboda.org", "be", "be", "top-of-body", "article-body"),
    Service("www.kavkazr.com", "ru", "ru-2", "top-of-text", "article-body"),
    Service("www.rferl.org", "en", "en", "banner", "elsewhere"),
    Service("www.idelreal.org", "ru", None, None, None),  # prints no notice
)
ARTICLES = 4  # per service, plus one that reports a designation (ru, uk, be services)
FIRST_ID = 33500000


def paragraphs(parts: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in parts)


def article_text(service: Service, number: int) -> list[str]:
    if number == ARTICLES and service.language in REPORTING:
        return list(REPORTING[service.language])
    who, what = WORDS[service.language]
    return [f"{who} {service.host} ({number}-{i}) {what} {number * 7 + i}." for i in range(5)]


def article_page(service: Service, number: int, article_id: int) -> str:
    body = article_text(service, number)
    notice = paragraphs(sentences(service.notice)) if service.notice else ""
    slots = dict.fromkeys(("banner", "top", "first", "after", "footer"), "")
    if service.place == "after-body":
        slots["after"] = f'<div class="c-disclaimer">{notice}</div>'
    elif service.place == "footer":
        slots["footer"] = f'<div class="footer__disclaimer">{notice}</div>'
    elif service.place == "top-of-body":
        slots["top"] = f'<div class="c-notice">{notice}</div>'
    elif service.place == "top-of-text":
        slots["first"] = notice
    elif service.place == "banner":
        slots["banner"] = f'<div class="c-banner">{notice}</div>'
    if service.label:
        slots["top"] += f'<div class="c-label"><p>{FOREIGN_AGENT_LABELS[0]}</p></div>'
    if service.promo:
        body = [*body[:2], PROMO, *body[2:]]
    title = f"{service.host} story {number}"
    return f"""<!DOCTYPE html>
<html lang="{service.language}"><head><meta charset="utf-8"><title>{title}</title>
<meta content="{title}" property="og:title" />
<link rel="canonical" href="https://{service.host}/a/{article_id}.html" />
</head>
<body class=" nav-no-loaded pg-article print-lay-article ">
<script>var utag_data={{entity:"RFE",pangea_version:"8.34.0.0.291",article_uid:"{article_id}"}};
</script>
<div id="page"><div class="banner">{slots["banner"]}</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/z/1">News</a></li></ul></nav>
<div id="content"><div class="container"><div class="hdr-container">
<h1 class="title pg-title">{title}</h1>
<time datetime="2025-01-1{number}T09:00:00+03:00">2025-01-1{number}</time></div></div>
<div class="container"><div class="body-container"><div class="row">
<div id="article-content" class="content-floated-wrap fb-quotable">{slots["top"]}
<div class="wsw">{slots["first"]}{paragraphs(body)}</div>
</div></div></div>{slots["after"]}</div></div>
<footer role="contentinfo"><div id="foot" class="foot"><div class="foot-nav"><ul>
<li><a href="/p/5.html">About Us</a></li></ul></div>{slots["footer"]}
<p class="copyright">Copyright 2025</p></div></footer>
</body></html>"""


def write_service(root: Path, service: Service, numbers: range, first_id: int) -> list[str]:
    """The service's pages, robots.txt, sitemap index and news sitemap; the article URLs."""
    folder = root / service.host
    (folder / "a").mkdir(parents=True, exist_ok=True)
    (folder / "robots.txt").write_text(
        f"User-agent: *\nDisallow: /api/*\n\nSitemap: https://{service.host}/sitemap.xml\n"
    )
    (folder / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><sitemapindex xmlns="http://www.sitemaps.org/'
        f'schemas/sitemap/0.9"><sitemap><loc>https://{service.host}/sitemap_9_news.xml.gz</loc>'
        "</sitemap></sitemapindex>"
    )
    urls = []
    entries = []
    for number in numbers:
        article_id = first_id + number
        url = f"https://{service.host}/a/{article_id}.html"
        (folder / "a" / f"{article_id}.html").write_text(article_page(service, number, article_id))
        urls.append(url)
    for url in sorted({*urls, *_listed(folder)}):
        entries.append(
            f"<url><loc>{url}</loc><news:news><news:publication><news:name>{service.host}"
            f"</news:name><news:language>{service.language}</news:language></news:publication>"
            "<news:publication_date>2025-01-15T09:00:00Z</news:publication_date>"
            f"<news:title>{url}</news:title></news:news></url>"
        )
    (folder / "sitemap_9_news.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><urlset xmlns:news="http://www.google.com/'
        'schemas/sitemap-news/0.9" xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(entries)
        + "</urlset>"
    )
    return urls


def _listed(folder: Path) -> list[str]:
    return [
        f"https://{folder.name}/a/{page.name}" for page in sorted((folder / "a").glob("*.html"))
    ]


def crawl(double, output: Path, run_id: str):
    hosts = ",".join(s.host for s in SERVICES)
    result = run_crawl(
        double, output, "-a", f"sites={hosts}", "-a", "feeds=0", run_id=run_id, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.log[-3000:]
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory, request):
    """Two crawls of the site into one output: the second after two new sibreal articles."""
    from newsarchive.webdouble import WebDouble

    root = tmp_path_factory.mktemp("notice_site")
    output = tmp_path_factory.mktemp("notice_out")
    for n, service in enumerate(SERVICES):
        write_service(root, service, range(ARTICLES + 1), FIRST_ID + 100 * n)
    double = WebDouble(root).start()
    request.addfinalizer(double.stop)
    print(f"webdouble listening on {double.proxy_url} root={root}")
    first = crawl(double, output, "first")
    write_service(root, SERVICES[0], range(ARTICLES + 1, ARTICLES + 3), FIRST_ID)
    second = crawl(double, output, "second")
    return first, second


def expected_notice(service: Service) -> dict | None:
    if service.notice is None:
        return None
    return {
        "kind": "undesirable-organization",
        "text": "\n\n".join(s.format(a="", z="") for s in PARAPHRASES[service.notice]),
        "language": service.language,
        "location": service.location,
        "source": "signals",
    }


def service_of(item: dict) -> Service:
    return next(s for s in SERVICES if s.host == item["site"])


def test_every_notice_found_and_nothing_else(runs):
    first, _ = runs
    assert len(first.items) == len(SERVICES) * (ARTICLES + 1)
    tp = fp = fn = 0
    for item in first.items:
        want = expected_notice(service_of(item))
        got = item["legal_notice"]
        if want is None:
            fp += got is not None
        elif got == want:
            tp += 1
        else:
            fn += 1
            fp += got is not None
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    print(f"notice precision {precision:.3f} recall {recall:.3f} ({tp} tp, {fp} fp, {fn} fn)")
    assert (precision, recall) == (1.0, 1.0)


def test_no_notice_sentence_in_any_text(runs):
    for item in [*runs[0].items, *runs[1].items]:
        text = normalize(item["text"])
        for key in PARAPHRASES:
            for sentence in PARAPHRASES[key]:
                assert normalize(sentence.format(a="", z=""))[:40] not in text, item["url"]
        assert "иностранн" not in text, item["url"]


def test_foreign_agent_label_reported_with_the_notice(runs):
    for item in runs[0].items:
        kinds = [n["kind"] for n in item["legal_notices"]]
        if service_of(item).label:
            assert kinds == ["undesirable-organization", "foreign-agent"]
            assert item["legal_notices"][1]["text"] == FOREIGN_AGENT_LABELS[0]
        else:
            assert "foreign-agent" not in kinds


def test_reporting_articles_keep_their_sentences(runs):
    reporting = [i for i in runs[0].items if i["title"].endswith(f"story {ARTICLES}")]
    assert len(reporting) == len(SERVICES)
    for item in reporting:
        language = service_of(item).language
        for sentence in REPORTING.get(language, []):
            assert sentence in item["text"], item["url"]


def test_template_learned_in_the_run_and_kept_across_runs(runs):
    first, second = runs
    promo = [i for i in first.items if PROMO in i["text"]]
    assert len(promo) == defaults.NEWSARCHIVE_TEMPLATE_MIN_PAGES - 1
    assert first.stats["newsarchive/template/pages_learned"] == len(first.items)
    assert first.stats["newsarchive/template/blocks_removed"] >= ARTICLES + 1 - len(promo)
    new = [i for i in second.items if i["url"].endswith(f"{FIRST_ID + ARTICLES + 2}.html")]
    assert len(new) == 1
    assert all(PROMO not in i["text"] for i in second.items)
    assert second.stats["newsarchive/template/pages_learned"] == 2
    for item in second.items:
        assert item["text"].startswith(WORDS["ru"][0])


def test_reextract_learns_the_template_from_the_archive(runs, tmp_path):
    """``scrapy reextract`` of the first run: the same notices, and the promo learned from the
    archive's pages in the archive's order, so again only the first two keep it."""
    first, _ = runs
    out = tmp_path / "again.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "reextract", str(first.folder), "-O", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(items) == len(first.items)
    crawled = {i["url"]: i for i in first.items}
    for item in items:
        assert item["legal_notices"] == crawled[item["url"]]["legal_notices"]
    promo = [i for i in items if PROMO in i["text"]]
    assert len(promo) == defaults.NEWSARCHIVE_TEMPLATE_MIN_PAGES - 1
