"""Self-check of the bundled sample site against EXPECTED.json.

Run: .venv/bin/python tests/site/validate_site.py  (exit status 0 = consistent).

Not a pytest module (the name does not start with ``test_``): it checks the fixture itself, not the
crawler. It re-derives every EXPECTED.json field from the files with plain lxml, and checks that all
XML parses, every sitemap <loc> and every EXPECTED URL maps to a file (or a redirect sidecar), that
dates agree across sitemaps, JSON-LD, time[datetime] and EXPECTED.json, and that robots.txt blocks
exactly the URLs listed as disallowed.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import lxml.etree as ET
import lxml.html

SITE = Path(__file__).resolve().parent
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
MAX_SIZE = 15_000
errors: list[str] = []


def err(msg: str) -> None:
    errors.append(msg)


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def url_to_file(url: str) -> Path:
    """The web double's mapping: https://<host>/<path> -> <host>/<path>; '/' -> index.html; X.gz -> X."""
    u = urlsplit(url)
    path = u.path
    if path.endswith("/"):
        path += "index.html"
    p = SITE / u.netloc / path.lstrip("/")
    if not p.exists() and p.suffix == ".gz":
        p = p.with_suffix("")
    return p


def sidecar(p: Path) -> dict | None:
    sc = p.with_name(p.name + ".headers.json")
    return json.loads(sc.read_text("utf-8")) if sc.exists() else None


def fetch(url: str, hops: int = 5) -> tuple[str, Path]:
    """Follow sidecar redirects; return (final URL, file)."""
    for _ in range(hops):
        p = url_to_file(url)
        if not p.exists():
            err(f"no file for {url}")
            return url, p
        sc = sidecar(p)
        if sc and sc.get("status") in (301, 302, 307, 308):
            url = sc["headers"]["Location"]
            continue
        return url, p
    err(f"redirect loop at {url}")
    return url, p


def ld_time(s: str) -> datetime:
    # Pangea form "2012-02-07 14:12:00Z"
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=UTC)


def iso_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def z(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- notice recognition (validator only)
NOTICE_MARKERS = {
    ("undesirable-organization", "en"): ['declared an "undesirable organization" by the Russian government'],
    ("undesirable-organization", "ru"): ["признано российскими властями"],
    ("foreign-agent", "ru"): ["ИНОСТРАННЫМ АГЕНТОМ"],
}
NOTICE_LINE_STARTS = ("RFE/RL has been declared", "If you are in Russia", "To find out more",
                      "Радио Свобода/Радио Свободная Европа признано", "Если вы находитесь в России", "Подробнее",
                      "НАСТОЯЩИЙ МАТЕРИАЛ")


def unquote(s: str) -> str:
    return re.sub("[“”«»]", '"', s)


def find_notice(doc) -> tuple[dict | None, list]:
    found = []
    for (kind, lang), markers in NOTICE_MARKERS.items():
        for el in doc.iter("p"):
            t = unquote(norm(el.text_content()))
            if any(unquote(m) in t for m in markers):
                anc = [a for a in el.iterancestors()]
                ids = {a.get("id") for a in anc}
                classes = " ".join(a.get("class", "") for a in anc)
                if "article-content" in ids:
                    loc = "article-body"
                elif any(a.tag == "footer" for a in anc):
                    loc = "footer"
                elif "c-disclaimer" in classes:
                    loc = "after-body"
                else:
                    loc = "elsewhere"
                found.append({"kind": kind, "language": lang, "location": loc})
    if len(found) > 1:
        err(f"more than one notice found: {found}")
    return (found[0] if found else None), found


def body_paragraphs(doc) -> list[str]:
    wsw = doc.xpath('//div[@id="article-content"]/div[@class="wsw"]')
    if len(wsw) != 1:
        err(f"expected exactly one #article-content > div.wsw, got {len(wsw)}")
        return []
    out = []
    for p in wsw[0].iter("p"):
        if any("wsw__embed" in (a.get("class") or "") for a in p.iterancestors()):
            continue
        t = norm(p.text_content())
        if not t or t.startswith(NOTICE_LINE_STARTS):
            continue
        out.append(t)
    return out


# --------------------------------------------------------------------------- sitemaps
def load_sitemaps(host: str) -> dict[str, dict]:
    """Return {sitemap_url: {"kind": ..., "urls": {loc: lastmod_or_pubdate}, "titles": {...}}}."""
    out: dict[str, dict] = {}
    idx_url = f"https://{host}/sitemap.xml"
    root = ET.parse(str(url_to_file(idx_url))).getroot()
    if root.tag != f"{{{NS['sm']}}}sitemapindex":
        err(f"{idx_url}: not a sitemapindex")
        return out
    for sm in root.findall("sm:sitemap", NS):
        loc = sm.findtext("sm:loc", namespaces=NS)
        lastmod = sm.findtext("sm:lastmod", namespaces=NS)
        name = loc.rsplit("/", 1)[1]
        numbered = re.fullmatch(r"sitemap_\d+_\d+\.xml\.gz", name) is not None
        if numbered and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6,7}Z", lastmod or ""):
            err(f"{loc}: archive slice needs a 6-7 digit fractional lastmod, got {lastmod!r}")
        if not numbered and lastmod is not None:
            err(f"{loc}: only archive slices carry a lastmod in the index")
        p = url_to_file(loc)
        if not p.exists():
            err(f"{loc}: no file")
            continue
        if p.name.endswith(".gz"):
            err(f"{loc}: write sitemaps as plain .xml")
        r = ET.parse(str(p)).getroot()
        entry = {"kind": name.split("_", 2)[2].split(".")[0], "urls": {}, "titles": {}}
        for u in r.findall("sm:url", NS):
            uloc = u.findtext("sm:loc", namespaces=NS)
            if "?" in uloc:
                err(f"{loc}: lists a URL with a query string: {uloc}")
            pd = u.findtext("news:news/news:publication_date", namespaces=NS)
            entry["urls"][uloc] = pd or u.findtext("sm:lastmod", namespaces=NS)
            if pd:
                entry["titles"][uloc] = u.findtext("news:news/news:title", namespaces=NS)
            _final, fp = fetch(uloc)
            if not fp.exists():
                err(f"{loc}: <loc> {uloc} has no file")
        out[loc] = entry
    return out


# --------------------------------------------------------------------------- robots
def robots_rules(host: str) -> list[str]:
    p = SITE / host / "robots.txt"
    return [line.split(":", 1)[1].strip() for line in p.read_text("utf-8").splitlines()
            if line.lower().startswith("disallow:")]


def blocked(url: str, rules: list[str]) -> bool:
    u = urlsplit(url)
    target = u.path + (("?" + u.query) if u.query else "")
    for rule in rules:
        rx = "^" + re.escape(rule).replace(r"\*", ".*")
        if rx.endswith(r"\$"):
            rx = rx[:-2] + "$"
        if re.match(rx, target):
            return True
    return False


# --------------------------------------------------------------------------- main
def main() -> int:
    exp = json.loads((SITE / "EXPECTED.json").read_text("utf-8"))

    # every file small; every XML parses; every HTML parses; every JSON parses
    for f in SITE.rglob("*"):
        if not f.is_file() or f.name in ("README.md", "validate_site.py"):
            continue
        if f.stat().st_size > MAX_SIZE and f.name != "EXPECTED.json":
            err(f"{f}: larger than {MAX_SIZE} bytes")
        if f.name.endswith(".json"):
            json.loads(f.read_text("utf-8"))
        elif f.suffix == ".xml" and f.parent.name != "pressroom.rferl.org":
            ET.parse(str(f))
        elif f.parent.name == "api" and f.stat().st_size:
            ET.parse(str(f))  # RSS
        elif f.stat().st_size and f.name != "robots.txt":
            doc = lxml.html.fromstring(f.read_bytes())
            for s in doc.xpath('//script[@type="application/ld+json"]'):
                json.loads(s.text)

    hosts = [h for h in exp["hosts"] if exp["hosts"][h]["site_id"] is not None]
    sitemaps: dict[str, dict] = {}
    for h in hosts:
        sitemaps.update(load_sitemaps(h))
        rules = robots_rules(h)
        for must in ("/api/*", "/*?p=*", "/s?k=*"):
            if must not in rules:
                err(f"{h}/robots.txt lacks Disallow: {must}")
        if f"Sitemap: https://{h}/sitemap.xml" not in (SITE / h / "robots.txt").read_text("utf-8"):
            err(f"{h}/robots.txt lacks its Sitemap line")
        for sm_url, sm in sitemaps.items():
            for loc in sm["urls"]:
                if urlsplit(loc).netloc == h and blocked(loc, rules):
                    err(f"{sm_url} lists a URL blocked by robots.txt: {loc}")

    def listing(urls: set[str]) -> list[str]:
        return sorted(sm for sm, d in sitemaps.items() if urls & set(d["urls"]))

    # ---- articles
    ids = set()
    for a in exp["articles"]:
        url = a["url"]
        ids.add(a["article_id"])
        names = {url, *a.get("alternate_urls", []), *([a["listed_as"]] if "listed_as" in a else [])}
        for n in names:
            final, p = fetch(n)
            if final != url and n not in a.get("alternate_urls", []):
                err(f"{n}: resolves to {final}, expected {url}")
        p = url_to_file(url)
        if not p.exists():
            continue
        raw = p.read_bytes()
        for alt in a.get("alternate_urls", []):
            if url_to_file(alt).read_bytes() != raw:
                err(f"{alt}: differs from {url}")
        doc = lxml.html.fromstring(raw)
        tag = f"[{a['article_id']}]"
        html_el = doc.getroottree().getroot()
        if html_el.get("lang") != a["language"]:
            err(f"{tag} html lang {html_el.get('lang')} != {a['language']}")
        want_dir = "rtl" if a["language"] == "fa" else "ltr"
        if html_el.get("dir") != want_dir:
            err(f"{tag} dir should be {want_dir}")
        if "pg-article" not in doc.body.get("class", "").split():
            err(f"{tag} body lacks pg-article")
        if a["article_id"] not in url:
            err(f"{tag} id not in url")

        def meta(prop=None, name=None, doc=doc):
            q = f'//meta[@property="{prop}"]/@content' if prop else f'//meta[@name="{name}"]/@content'
            v = doc.xpath(q)
            return v[0] if v else None

        # og:* must be written content-first, as on Pangea
        if re.search(rb'<meta property="og:', raw):
            err(f"{tag} og meta written property-first")
        lds = [json.loads(s.text) for s in doc.xpath('//script[@type="application/ld+json"]')]
        ld = next(d for d in lds if d.get("@type") == "NewsArticle")
        h1 = doc.xpath('//div[contains(@class,"hdr-container")]//h1[contains(concat(" ",@class," ")," pg-title ")]')
        titles = {
            "h1": h1[0].text_content().strip() if h1 else None,
            "og:title": meta("og:title").strip(),
            "<title>": doc.findtext(".//title").strip(),
            "ld.headline": ld["headline"].strip(),
        }
        for k, v in titles.items():
            if v != a["title"]:
                err(f"{tag} title from {k} = {v!r} != {a['title']!r}")
        canon = doc.xpath('//link[@rel="canonical"]/@href')[0]
        for k, v in {"canonical": canon, "og:url": meta("og:url"), "ld.url": ld["url"]}.items():
            if v != a["canonical_url"]:
                err(f"{tag} {k} = {v} != {a['canonical_url']}")
        if meta("og:image") != a["image"]:
            err(f"{tag} og:image {meta('og:image')} != {a['image']}")
        if meta(name="description") != a["description"] or meta("og:description") != a["description"]:
            err(f"{tag} description mismatch")
        kw = meta(name="news_keywords") or meta(name="keywords")
        if kw.split(", ") != a["tags"] or ld.get("keywords", "").split(", ") != a["tags"]:
            err(f"{tag} tags {kw!r} / {ld.get('keywords')!r} != {a['tags']}")
        cat = doc.xpath('//div[contains(@class,"hdr-container")]'
                        '//div[contains(@class,"category")]/a[starts-with(@href,"/z/")]')
        if not cat or norm(cat[0].text_content()) != a["section"] or ld.get("articleSection") != a["section"]:
            err(f"{tag} section mismatch")
        # dates
        pub = ld_time(ld["datePublished"])
        if z(pub) != a["published"]:
            err(f"{tag} JSON-LD datePublished {ld['datePublished']} != {a['published']}")
        t = doc.xpath('//div[contains(@class,"publishing-details")]//span[@class="date"]/time/@datetime')
        if len(t) != 1 or not re.search(r"[+-]\d\d:\d\d$", t[0]) or z(iso_time(t[0])) != a["published"]:
            err(f"{tag} time[datetime] {t} != {a['published']}")
        mod = z(ld_time(ld["dateModified"])) if "dateModified" in ld else None
        if mod != a["modified"]:
            err(f"{tag} modified {mod} != {a['modified']}")
        # authors
        auth = [norm(x.text_content()) for x in doc.xpath(
            '//div[contains(@class,"publishing-details")]//ul[contains(@class,"links__list")]/li[@class="links__item"]/a[@class="links__item-link"]')]
        if auth != a["authors"]:
            err(f"{tag} byline {auth} != {a['authors']}")
        la = ld.get("author")
        la = [] if la is None else (la if isinstance(la, list) else [la])
        if [x["name"] for x in la] != a["authors"]:
            err(f"{tag} JSON-LD authors {la} != {a['authors']}")
        # body
        paras = body_paragraphs(doc)
        if len(paras) != a["paragraph_count"]:
            err(f"{tag} {len(paras)} paragraphs != {a['paragraph_count']}")
        if paras and (paras[0] != a["first_paragraph"] or paras[-1] != a["last_paragraph"]):
            err(f"{tag} first/last paragraph mismatch:\n  {paras[0]!r}\n  {paras[-1]!r}")
        dl = doc.xpath('//div[@class="wsw"]/span[@class="dateline"]')
        if (norm(dl[0].text_content()) if dl else None) != a.get("dateline"):
            err(f"{tag} dateline mismatch")
        caps = [norm(c.text_content()) for c in doc.xpath("//figcaption//span[contains(@class,'caption')]")]
        caps = [c for c in caps if c]
        if caps != a["captions"]:
            err(f"{tag} captions {caps} != {a['captions']}")
        for c in caps:
            if any(c in pp for pp in paras):
                err(f"{tag} caption inside a body paragraph: {c}")
        notice, _ = find_notice(doc)
        if notice != a["notice"]:
            err(f"{tag} notice {notice} != {a['notice']}")
        if a["site"] == "www.radiofarda.com" and notice:
            err(f"{tag} notice on a Persian page")
        # sitemaps
        lst = listing(names)
        if lst != sorted(a["listed_in"]):
            err(f"{tag} listed_in {lst} != {sorted(a['listed_in'])}")
        default = any(sitemaps[s]["kind"] in ("news", "latest") for s in lst)
        if default != a["in_default_crawl"]:
            err(f"{tag} in_default_crawl should be {default}")
        for s in lst:
            for n in names & set(sitemaps[s]["urls"]):
                d = sitemaps[s]["urls"][n]
                if sitemaps[s]["kind"] == "news":
                    if z(iso_time(d).replace(microsecond=0)) != a["published"]:
                        err(f"{tag} news publication_date {d} != {a['published']}")
                    if sitemaps[s]["titles"][n].strip() != a["title"]:
                        err(f"{tag} news title mismatch")
                elif iso_time(d).replace(microsecond=0) < pub:
                    err(f"{tag} {s} lastmod {d} earlier than publication")

    # ---- non-articles
    kinds = {"video": "pg-media", "liveblog": "pg-liveblog"}
    for n in exp["non_articles"]:
        final, p = fetch(n["url"])
        if not p.exists():
            continue
        doc = lxml.html.fromstring(p.read_bytes())
        cls = doc.body.get("class", "").split()
        if "pg-article" in cls:
            err(f"{n['url']}: non-article has pg-article")
        if n["kind"] in kinds and kinds[n["kind"]] not in cls:
            err(f"{n['url']}: lacks {kinds[n['kind']]}")
        if n["kind"] in kinds and doc.xpath('//*[@id="article-content"]'):
            err(f"{n['url']}: has #article-content")
        if listing({n["url"]}) != sorted(n["listed_in"]):
            err(f"{n['url']}: listed_in {listing({n['url']})}")

    # ---- every sitemap-listed page is accounted for
    known = set()
    for a in exp["articles"]:
        known |= {a["url"], *a.get("alternate_urls", []), *([a["listed_as"]] if "listed_as" in a else [])}
    known |= {n["url"] for n in exp["non_articles"]}
    for s, d in sitemaps.items():
        for loc in d["urls"]:
            if loc not in known:
                err(f"{s}: {loc} is not in EXPECTED.json")

    # ---- robots
    for u in exp["disallowed"]:
        h = urlsplit(u).netloc
        if not blocked(u, robots_rules(h)):
            err(f"not blocked by robots.txt: {u}")
    for a in exp["articles"]:
        if blocked(a["url"], robots_rules(a["site"])):
            err(f"article blocked by robots.txt: {a['url']}")

    # ---- redirects
    for r in exp["redirects"]:
        p = url_to_file(r["from"])
        sc = sidecar(p)
        if not (p.exists() and sc and sc["status"] == r["status"] and sc["headers"]["Location"] == r["to"]):
            err(f"redirect {r['from']} not set up")
        if not url_to_file(r["to"]).exists():
            err(f"redirect target missing: {r['to']}")

    # ---- soft 404
    for u in exp["soft_404_sitemaps"]:
        p = url_to_file(u)
        body = p.read_text("utf-8")
        if "<urlset" in body or "<sitemapindex" in body or "Page not found" not in body:
            err(f"{u}: should be an HTML not-found page")
        h = urlsplit(u).netloc
        if f"Sitemap: {u}" not in (SITE / h / "robots.txt").read_text("utf-8"):
            err(f"{h}/robots.txt should point at {u}")

    for e in errors:
        print("ERROR:", e)
    print(f"{len(exp['articles'])} articles, {len(exp['non_articles'])} non-articles, "
          f"{len(sitemaps)} sitemaps checked; {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
