"""The RFE/RL service list and the ``-a sites=`` argument."""

from __future__ import annotations

import pytest

from newsarchive.discovery.pangea import is_excluded_host
from newsarchive.discovery.services import rferl_services, select_services


def test_every_service_of_the_real_host_list_is_covered(corpora):
    real = (corpora / "rferl" / "sitemaps" / "rferlsites.txt").read_text().split()
    ours = {s.host.removeprefix("www.") for s in rferl_services()}
    missing = {h for h in real if h not in ours and not is_excluded_host(h)}
    assert not missing
    assert "showcase.pangea-cms.com" not in {s.host for s in rferl_services()}


def test_default_is_all_services():
    assert len(select_services(None)) == len(rferl_services()) >= 40


@pytest.mark.parametrize(
    ("arg", "hosts"),
    [
        ("www.rferl.org,www.svoboda.org", ["www.rferl.org", "www.svoboda.org"]),
        ("svoboda, farda", None),
        ("svoboda,radiofarda", ["www.svoboda.org", "www.radiofarda.com"]),
        ("https://www.svoboda.org/", ["www.svoboda.org"]),
        ("rus.azattyq", ["rus.azattyq.org"]),
        ("svoboda.org,svoboda", ["www.svoboda.org"]),
    ],
)
def test_sites_argument(arg, hosts):
    if hosts is None:
        with pytest.raises(ValueError, match=r"'farda' is not an RFE/RL site; did you mean radio"):
            select_services(arg)
    else:
        assert [s.host for s in select_services(arg)] == hosts


@pytest.mark.parametrize(
    ("host", "excluded"),
    [
        ("showcase.pangea-cms.com", True),
        ("preview.rferl.org", True),
        ("staging-www.svoboda.org", True),
        ("www.rferl.org", False),
        ("www.devnews.org", False),
    ],
)
def test_preview_and_showcase_hosts_are_never_fetched(host, excluded):
    assert is_excluded_host(host) is excluded
