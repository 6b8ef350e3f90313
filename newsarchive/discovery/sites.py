"""Which sites the ``news`` spider archives and how: one :class:`SiteConfig` per site.

From spider arguments (``-a site=https://example.org -a depth=1 ...``) or a TOML sites file
(``-a sites_file=sites.toml``) for one scheduled run over many outlets::

    [defaults]            # optional: applies to every site that does not say otherwise
    since = "2025-01-01"

    [[site]]
    url = "https://example.org"
    depth = 1             # link hops from the home page (sitemap/feed entries count as one)
    allow = ["/news/"]    # URL regexes; a followed or listed URL must match one (if any given)
    deny = ["/tag/", "/author/"]
    feeds = ["https://example.org/special.xml"]   # feeds besides the discovered ones
    sitemaps = true       # read robots.txt sitemaps (default true)

Errors name the file, the site and the key, so a typo fails the run before any request.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from newsarchive.arguments import NO, YES, ArgumentError, parse_flag
from newsarchive.discovery.dates import parse_day

KEYS = frozenset({"url", "since", "depth", "allow", "deny", "feeds", "sitemaps"})
#: Never articles, whatever the site: media, documents, feeds, scripts.
NOT_ARTICLE_SUFFIX = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|ico|pdf|zip|gz|mp3|mp4|m4a|webm|mov|css|js|json|xml|rss|atom"
    r"|txt|docx?|xlsx?|pptx?)$",
    re.I,
)


class SiteConfigError(ArgumentError):
    """A site argument or sites-file entry that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class SiteConfig:
    """One site to archive."""

    home: str
    """The home page URL (``https://host/``)."""
    since: date | None = None
    depth: int = 0
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: bool = True
    _allow: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _deny: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    @property
    def host(self) -> str:
        return urlsplit(self.home).hostname or ""

    @property
    def hosts(self) -> frozenset[str]:
        """The host and its ``www.`` twin: sites link and list both."""
        bare = self.host.removeprefix("www.")
        return frozenset({bare, f"www.{bare}"})

    def origin(self, path: str = "/") -> str:
        parts = urlsplit(self.home)
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))

    def on_site(self, url: str) -> bool:
        return (urlsplit(url).hostname or "") in self.hosts

    def wants(self, url: str) -> bool:
        """Whether a listed or linked URL may be an article of this site."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not self.on_site(url):
            return False
        if parts.path in ("", "/") or NOT_ARTICLE_SUFFIX.search(parts.path):
            return False
        if self._allow and not any(p.search(url) for p in self._allow):
            return False
        return not any(p.search(url) for p in self._deny)


def _patterns(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise SiteConfigError(f"{where}: {key} must be a regex or a list of regexes")
    for pattern in items:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SiteConfigError(f"{where}: {key} {pattern!r} is not a regex: {exc}") from exc
    return tuple(items)


def _home(url: Any, where: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise SiteConfigError(f"{where}: give the site as a URL, e.g. https://example.org")
    url = url.strip()
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SiteConfigError(
            f"{where}: site {url!r} is not an http(s) URL, e.g. https://example.org"
        )
    return urlunsplit((parts.scheme, parts.netloc.lower(), "/", "", ""))


def make_site(values: dict[str, Any], where: str = "arguments") -> SiteConfig:
    """A :class:`SiteConfig` from spider arguments or one sites-file entry."""
    unknown = set(values) - KEYS
    if unknown:
        raise SiteConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(KEYS))}"
        )
    since = values.get("since")
    if isinstance(since, str) and since.strip():
        try:
            since = parse_day(since)
        except ValueError as exc:
            raise SiteConfigError(f"{where}: since: {exc}") from exc
    elif not isinstance(since, date):
        since = None
    try:
        depth = int(values.get("depth") or 0)
    except (TypeError, ValueError) as exc:
        raise SiteConfigError(
            f"{where}: depth {values.get('depth')!r} is not a whole number (0 or more)"
        ) from exc
    if depth < 0:
        raise SiteConfigError(f"{where}: depth must be 0 or more, not {depth}")
    try:
        sitemaps = parse_flag("sitemaps", values.get("sitemaps", True), default=True)
    except ArgumentError:
        raise SiteConfigError(
            f"{where}: sitemaps {values.get('sitemaps')!r} is not yes or no "
            f"({'/'.join(YES)} or {'/'.join(NO)})"
        ) from None
    feeds = values.get("feeds") or ()
    if isinstance(feeds, str):
        feeds = [f for f in re.split(r"[\s,]+", feeds) if f]
    allow = _patterns(values.get("allow"), where, "allow")
    deny = _patterns(values.get("deny"), where, "deny")
    return SiteConfig(
        home=_home(values.get("url"), where),
        since=since,
        depth=depth,
        allow=allow,
        deny=deny,
        feeds=tuple(feeds),
        sitemaps=bool(sitemaps),
        _allow=tuple(re.compile(p) for p in allow),
        _deny=tuple(re.compile(p) for p in deny),
    )


def load_sites_file(path: str | Path) -> list[SiteConfig]:
    """Every ``[[site]]`` of a TOML sites file, ``[defaults]`` applied."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise SiteConfigError(f"sites file {path}: cannot read it: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError(f"sites file {path}: not valid TOML: {exc}") from exc
    defaults = data.get("defaults") or {}
    entries = data.get("site") or []
    if not isinstance(entries, list) or not entries:
        raise SiteConfigError(f"sites file {path}: no [[site]] entries")
    return unique_sites(
        make_site({**defaults, **entry}, f"sites file {path}, site {i}")
        for i, entry in enumerate(entries, start=1)
    )


def unique_sites(sites: Iterable[SiteConfig]) -> list[SiteConfig]:
    """One config per host: a site listed twice is a mistake worth refusing."""
    result: dict[str, SiteConfig] = {}
    for site in sites:
        if site.host in result:
            raise SiteConfigError(f"site {site.host} is listed twice")
        result[site.host] = site
    return list(result.values())
