"""Shared fixtures: the corpora folder, the sample site, the web double, a real crawl."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.webdouble_fixtures import proxy_env, webdouble_factory  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SITE = REPO / "tests" / "site"


def corpora_root() -> Path:
    """``NEWSARCHIVE_CORPORA`` or ``../shared/corpora`` next to the repository."""
    return Path(os.environ.get("NEWSARCHIVE_CORPORA") or REPO.parent / "shared" / "corpora")


@pytest.fixture(scope="session")
def corpora() -> Path:
    root = corpora_root()
    if not root.is_dir():
        pytest.fail(
            f"corpus folder {root} not found: set NEWSARCHIVE_CORPORA to the shared corpora "
            "(read in place, never copied into the repository)"
        )
    return root


@pytest.fixture(scope="session")
def warc_corpus(corpora: Path) -> Path:
    """The shared WARC/ARC corpus (``corpora/warc``), read in place."""
    folder = corpora / "warc"
    if not folder.is_dir():
        pytest.fail(f"{folder} missing: the reader is tested on the shared WARC corpus")
    return folder


@pytest.fixture(scope="session")
def sample_site() -> Path:
    return SAMPLE_SITE
