"""Page requisites: what an archived page needs to render, read from its HTML and stylesheets.

A replayed article should look like the page readers saw, so the archive needs its stylesheets
(and the fonts and images they name), its images and its icons. This module only *finds* them;
scope, caps and fetching are the Scrapy shell's (``newsarchive/spidermiddlewares/requisites.py``).

The rules, in the order a reader meets them in the README:

* stylesheets: ``<link rel=stylesheet>`` (not ``alternate``), and in every stylesheet, ``<style>``
  element and ``style`` attribute, the targets of ``@import`` and ``url()`` (fonts, backgrounds);
* images: every ``<img>`` and ``<picture>`` of the page (the logo is one), at *one* size: the
  candidate a desktop browser :data:`VIEWPORT` CSS pixels wide at device pixel ratio 1 picks from
  ``srcset``/``sizes`` (so the replaying browser, at that width, asks for the copy we have);
  and the page's ``og:image``;
* icons: ``<link rel="icon">`` / ``rel="shortcut icon"`` (what a desktop browser loads);
* scripts: none unless asked (``scripts=True``: every ``<script src>``): every page we archive
  carries its text and images in its HTML (an item was extracted from it), so it renders without
  them, and scripts are where trackers, players and comment widgets come from;
* never: ``<video>``/``<audio>`` and their sources and tracks, iframes, ``data:`` URLs, and any
  URL whose path ends like a media stream (:func:`is_media_stream`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

#: The desktop width (CSS pixels, device pixel ratio 1) srcset and media queries are read for.
VIEWPORT = 1280
#: Path endings of audio/video streams and playlists: never page requisites.
MEDIA_SUFFIXES = (
    ".mp4", ".m4v", ".mov", ".webm", ".ogv", ".mkv", ".avi", ".flv", ".ts", ".m3u8", ".mpd",
    ".mp3", ".m4a", ".aac", ".oga", ".ogg", ".wav", ".flac", ".f4m",
)  # fmt: skip
#: Image types a current browser decodes (a ``<picture><source type>`` of any other is skipped).
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/svg+xml"}
)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]+)"|'([^']+)')""", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_MEDIA_WIDTH = re.compile(r"\(\s*(min|max)-width\s*:\s*([\d.]+)(px|em|rem)\s*\)", re.I)
_LENGTH = re.compile(r"^([\d.]+)(px|vw|em|rem)$", re.I)


@dataclass(frozen=True)
class Requisite:
    """One resource a page or stylesheet needs, absolute, without fragment."""

    url: str
    kind: str
    """``stylesheet``, ``font``, ``image``, ``icon`` or ``script``."""


def is_media_stream(url: str) -> bool:
    """A URL whose path ends like an audio/video file or stream playlist."""
    return urlsplit(url).path.lower().endswith(MEDIA_SUFFIXES)


def _absolute(base: str, ref: str | None) -> str | None:
    ref = (ref or "").strip()
    if not ref or ref.startswith(("data:", "javascript:", "about:", "blob:", "#")):
        return None
    url = urldefrag(urljoin(base, ref))[0]
    if urlsplit(url).scheme not in ("http", "https") or is_media_stream(url):
        return None
    return url


def _css_kind(url: str) -> str:
    path = urlsplit(url).path.lower()
    if path.endswith((".woff2", ".woff", ".ttf", ".otf", ".eot")):
        return "font"
    return "stylesheet" if path.endswith(".css") else "image"


def stylesheet_requisites(css: str, base_url: str) -> list[Requisite]:
    """``@import`` targets (stylesheets) and ``url()`` targets (fonts, images) of CSS text."""
    css = _CSS_COMMENT.sub("", css)
    found: list[Requisite] = []
    imports = set()
    for match in _CSS_IMPORT.finditer(css):
        url = _absolute(base_url, match[1] or match[2])
        if url:
            imports.add(url)
            found.append(Requisite(url, "stylesheet"))
    for match in _CSS_URL.finditer(css):
        url = _absolute(base_url, match[1] or match[2] or match[3])
        if url and url not in imports:
            prefix = css[max(0, match.start() - 12) : match.start()].lower()
            kind = "stylesheet" if "@import" in prefix else _css_kind(url)
            found.append(Requisite(url, kind))
    return _unique(found)


def _media_matches(media: str | None, width: int = VIEWPORT) -> bool:
    """A media condition at ``width`` (only ``min-``/``max-width`` are read; others match)."""
    if not media or not media.strip():
        return True
    for kind, value, unit in _MEDIA_WIDTH.findall(media):
        pixels = float(value) * (16 if unit.lower() in ("em", "rem") else 1)
        if (kind.lower() == "min" and width < pixels) or (kind.lower() == "max" and width > pixels):
            return False
    return True


def _slot_width(sizes: str | None, width: int = VIEWPORT) -> float:
    """The image slot width ``sizes`` gives at ``width`` (no ``sizes``: the whole viewport)."""
    for entry in (sizes or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        condition, _, length = entry.rpartition(" ")
        if condition.strip() and not _media_matches(condition, width):
            continue
        match = _LENGTH.match(length.strip())
        if match is None:
            return float(width)
        value, unit = float(match[1]), match[2].lower()
        if unit == "vw":
            return value * width / 100
        return value * (16 if unit in ("em", "rem") else 1)
    return float(width)


def choose_from_srcset(srcset: str, sizes: str | None = None, width: int = VIEWPORT) -> str | None:
    """The candidate a browser ``width`` CSS pixels wide at DPR 1 loads: the narrowest ``w``
    candidate at least the slot wide (else the widest), or the ``1x`` one (else the lowest)."""
    widths: list[tuple[float, str]] = []
    densities: list[tuple[float, str]] = []
    for candidate in srcset.split(","):
        parts = candidate.split()
        if not parts:
            continue
        url, descriptor = parts[0], (parts[1].lower() if len(parts) > 1 else "1x")
        try:
            if descriptor.endswith("w"):
                widths.append((float(descriptor[:-1]), url))
            elif descriptor.endswith("x"):
                densities.append((float(descriptor[:-1]), url))
        except ValueError:
            continue
    if widths:
        slot = _slot_width(sizes, width)
        wide_enough = sorted(w for w in widths if w[0] >= slot)
        return wide_enough[0][1] if wide_enough else max(widths)[1]
    if densities:
        at_one = [d for d in densities if d[0] >= 1]
        return min(at_one)[1] if at_one else max(densities)[1]
    return None


def _image_url(img: etree._Element) -> str | None:
    srcset = img.get("srcset") or img.get("data-srcset")
    if srcset:
        chosen = choose_from_srcset(srcset, img.get("sizes"))
        if chosen:
            return chosen
    return img.get("src")


def _picture_url(picture: etree._Element) -> str | None:
    """The first ``<source>`` whose media matches and type is decodable, else the ``<img>``."""
    for source in picture.iter("source"):  # libxml2 nests each <source> in the one before
        media, kind = source.get("media"), (source.get("type") or "").strip().lower()
        if not _media_matches(media) or (kind and kind not in IMAGE_TYPES):
            continue
        srcset = source.get("srcset")
        if srcset:
            return choose_from_srcset(srcset, source.get("sizes"))
    img = picture.find(".//img")
    return _image_url(img) if img is not None else None


def _rels(element: etree._Element) -> set[str]:
    return {word.lower() for word in (element.get("rel") or "").split()}


def page_requisites(
    html: bytes | str, base_url: str, scripts: bool = False, encoding: str | None = None
) -> list[Requisite]:
    """The requisites of an HTML page, in document order, each URL once (see the module doc)."""
    if isinstance(html, bytes):
        parser = lxml.html.HTMLParser(encoding=encoding) if encoding else None
        root = lxml.html.document_fromstring(html, parser=parser)
    else:
        root = lxml.html.document_fromstring(html)
    base = root.find(".//base[@href]")
    base_url = urljoin(base_url, base.get("href")) if base is not None else base_url
    found: list[Requisite] = []

    def add(ref: str | None, kind: str) -> None:
        url = _absolute(base_url, ref)
        if url:
            found.append(Requisite(url, kind))

    for element in root.iter(etree.Element):
        tag = element.tag if isinstance(element.tag, str) else ""
        ancestors = {a.tag for a in element.iterancestors()}
        if ancestors & {"video", "audio"}:
            continue  # posters, sources and tracks of players: never
        if tag == "link":
            rels = _rels(element)
            if "stylesheet" in rels and "alternate" not in rels:
                add(element.get("href"), "stylesheet")
            elif rels & {"icon", "shortcut"}:
                add(element.get("href"), "icon")
        elif tag == "img" and "picture" not in ancestors:
            add(_image_url(element), "image")
        elif tag == "picture":
            add(_picture_url(element), "image")
        elif tag == "meta" and (element.get("property") or "").lower() == "og:image":
            add(element.get("content"), "image")
        elif tag == "style":
            found += stylesheet_requisites(element.text_content(), base_url)
        elif tag == "script" and scripts and element.get("src"):
            add(element.get("src"), "script")
        if element.get("style"):
            found += stylesheet_requisites(element.get("style"), base_url)
    return _unique(found)


def _unique(found: list[Requisite]) -> list[Requisite]:
    seen: set[str] = set()
    out = []
    for requisite in found:
        if requisite.url not in seen:
            seen.add(requisite.url)
            out.append(requisite)
    return out
