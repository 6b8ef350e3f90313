"""The RFE/RL service hosts, kept as data in ``newsarchive/data/rferl_services.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from newsarchive.arguments import ArgumentError, closest


@dataclass(frozen=True)
class Service:
    host: str
    language: str
    name: str

    @property
    def short_names(self) -> tuple[str, ...]:
        """Names users may type: ``svoboda.org`` and ``svoboda`` for ``www.svoboda.org``."""
        bare = self.host.removeprefix("www.")
        labels = bare.rsplit(".", 1)[0]
        return (bare, labels)


@cache
def rferl_services() -> tuple[Service, ...]:
    """All RFE/RL language-service hosts."""
    raw = json.loads(files("newsarchive").joinpath("data/rferl_services.json").read_text("utf-8"))
    return tuple(Service(**row) for row in raw["services"])


def select_services(names: str | None) -> list[Service]:
    """Resolve ``-a sites=`` (hosts or short names, comma-separated); all when empty.

    Raises :class:`~newsarchive.arguments.ArgumentError` naming each unknown entry and the known
    names closest to it (hosts and short names).
    """
    services = rferl_services()
    if not names or not names.strip():
        return list(services)
    index: dict[str, Service] = {}
    for service in services:
        index[service.host] = service
        for short in service.short_names:
            index.setdefault(short, service)
    chosen: list[Service] = []
    unknown: list[str] = []
    for raw_name in names.split(","):
        name = raw_name.strip().lower().removeprefix("https://").removeprefix("http://").strip("/")
        if not name:
            continue
        service = index.get(name)
        if service is None:
            unknown.append(raw_name.strip())
        elif service not in chosen:
            chosen.append(service)
    if unknown:
        raise ArgumentError(
            "-a sites: " + "; ".join(_unknown_site(name, index) for name in unknown)
        )
    return chosen


def _unknown_site(name: str, index: dict[str, Service]) -> str:
    """``'svobodda' is not an RFE/RL site; did you mean svoboda (www.svoboda.org)?``"""
    typed = name.lower().removeprefix("https://").removeprefix("http://").strip("/")
    guesses: list[str] = []
    for guess in closest(typed, index, n=8):  # several names per service: one each
        if all(index[g].host != index[guess].host for g in guesses):
            guesses.append(guess)
    guesses = guesses[:3]
    if not guesses:
        return (
            f"{name!r} is not an RFE/RL site (give hosts like www.svoboda.org or short names "
            "like svoboda; the list: newsarchive/data/rferl_services.json)"
        )
    named = [g if g == index[g].host else f"{g} ({index[g].host})" for g in guesses]
    return f"{name!r} is not an RFE/RL site; did you mean {', '.join(named)}?"
