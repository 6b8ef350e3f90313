"""Pytest fixtures for running code against the web double (imported by tests/conftest.py).

Like Scrapy's mockserver, every double prints its address so a failing test's captured
output says where it was listening.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.webdouble import WebDouble


@pytest.fixture
def webdouble_factory() -> Iterator[Callable[..., WebDouble]]:
    """``make(root, **opts)`` starts a WebDouble; every double made is stopped at teardown."""
    started: list[WebDouble] = []

    def make(root: str | Path, **opts: Any) -> WebDouble:
        double = WebDouble(root, **opts).start()
        started.append(double)
        print(f"webdouble listening on {double.proxy_url} root={double.root}")
        return double

    yield make
    for double in reversed(started):
        double.stop()


def proxy_env(double: WebDouble) -> dict[str, str]:
    """Environment variables that route every http(s) client through ``double``.

    ``no_proxy``/``NO_PROXY`` are blanked so an inherited value cannot bypass the double.
    """
    url = double.proxy_url
    return {
        "http_proxy": url,
        "https_proxy": url,
        "HTTP_PROXY": url,
        "HTTPS_PROXY": url,
        "no_proxy": "",
        "NO_PROXY": "",
    }
