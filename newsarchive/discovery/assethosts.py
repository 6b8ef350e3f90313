"""Where a page's requisites may come from: its own host, its site's asset hosts, never a
tracker. Both lists are data (``newsarchive/data/pangea_assets.json``,
``newsarchive/data/requisite_deny.json``), read once and matched like Scrapy's
``allowed_domains`` (a listed domain covers its subdomains)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit


def _data(name: str) -> dict:
    return json.loads(files("newsarchive").joinpath(f"data/{name}").read_text("utf-8"))


@cache
def pangea_asset_hosts() -> dict[str, tuple[str, ...]]:
    """Service host → the hosts its pages take pictures (and other assets) from."""
    rows = _data("pangea_assets.json")["asset_hosts"]
    return {host: tuple(hosts) for host, hosts in rows.items()}


@cache
def denied_hosts() -> tuple[str, ...]:
    """Tracker, analytics and advertising domains: never a requisite."""
    return tuple(_data("requisite_deny.json")["hosts"])


def _covered(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


@dataclass(frozen=True)
class RequisiteScope:
    """The hosts a page's requisites may come from, besides the page's own host."""

    extra_hosts: tuple[str, ...] = ()
    """Asset domains for every site (``NEWSARCHIVE_REQUISITES_HOSTS``)."""
    deny: tuple[str, ...] = ()
    """Denied domains (the data file's, plus any the settings add)."""

    def verdict(self, url: str, page_url: str) -> str | None:
        """None when ``url`` may be fetched for the page at ``page_url``; else the reason:
        ``requisite_denied`` (a tracker) or ``requisite_offsite``."""
        host = (urlsplit(url).hostname or "").lower()
        if _covered(host, self.deny):
            return "requisite_denied"
        page_host = (urlsplit(page_url).hostname or "").lower()
        allowed = (page_host, *pangea_asset_hosts().get(page_host, ()), *self.extra_hosts)
        return None if _covered(host, allowed) else "requisite_offsite"
