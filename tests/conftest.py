"""Shared fixtures: the corpora folder, the sample site, the web double, a real crawl."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.webdouble_fixtures import proxy_env, webdouble_factory  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SITE = REPO / "tests" / "site"


#: Set (to anything but empty or 0) where the corpora must be present, as CI does: their
#: absence then fails the tests that need them instead of skipping them.
REQUIRE_CORPORA = "NEWSARCHIVE_REQUIRE_CORPORA"
CORPORA_HELP = (
    "set NEWSARCHIVE_CORPORA to a copy of the shared corpora "
    "(README.md, 'The corpora': upstream repositories and pinned commits)"
)


def corpora_root() -> Path:
    """``NEWSARCHIVE_CORPORA`` or ``../shared/corpora`` next to the repository."""
    return Path(os.environ.get("NEWSARCHIVE_CORPORA") or REPO.parent / "shared" / "corpora")


def corpora_required() -> bool:
    return os.environ.get(REQUIRE_CORPORA, "").strip() not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that asks for the corpora (``corpora``, ``warc_corpus``) is a ``corpora`` test,
    so ``-m corpora`` / ``-m "not corpora"`` select them without anyone marking by hand."""
    for item in items:
        if "corpora" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "corpora"
        ):
            item.add_marker(pytest.mark.corpora)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip ``corpora`` tests when the corpora are absent (fail them where they are required).

    Skipped here, before any fixture runs, and always from this line, so pytest's ``-ra``
    summary groups them into one line: ``SKIPPED [N] tests/conftest.py:..: <how to get them>``.
    """
    if item.get_closest_marker("corpora") is not None:
        _need_corpora()


def _need_corpora() -> Path:
    root = corpora_root()
    if root.is_dir():
        return root
    if corpora_required():
        pytest.fail(f"the corpora are required ({REQUIRE_CORPORA}) but {root} is absent: "
                    f"{CORPORA_HELP}", pytrace=False)  # fmt: skip
    pytest.skip(f"needs the external corpora, absent ({root}): {CORPORA_HELP}")


@pytest.fixture(scope="session")
def corpora() -> Path:
    return _need_corpora()


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
