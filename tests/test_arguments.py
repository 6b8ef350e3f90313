"""Bad spider arguments: one line naming the argument and what it accepts, exit status 2, no
traceback; a misspelt site gets the closest known names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from newsarchive.arguments import ArgumentError, check_known, parse_flag, parse_since
from newsarchive.discovery.services import select_services
from newsarchive.spiders.news import NewsSpider
from newsarchive.spiders.rferl import RferlSpider
from tests.crawl_helpers import REPO


def scrapy_crawl(tmp_path, spider: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            spider,
            *args,
            "-s",
            f"NEWSARCHIVE_OUTPUT={tmp_path}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("spider", "args", "line"),
    [
        ("rferl", ["-a", "since=2025-13-45"],
         "scrapy crawl rferl: -a since=2025-13-45: expected a date as YYYY-MM-DD"),
        ("rferl", ["-a", "sites=svobodda"],
         "scrapy crawl rferl: -a sites: 'svobodda' is not an RFE/RL site; did you mean svoboda "
         "(www.svoboda.org)"),
        ("news", ["-a", "site=https://a.example", "-a", "depth=two"],
         "scrapy crawl news: -a arguments: depth 'two' is not a whole number (0 or more)"),
    ],
)  # fmt: skip
def test_scrapy_crawl_says_it_in_one_line_and_exits_2(tmp_path, spider, args, line):
    out = scrapy_crawl(tmp_path, spider, *args)
    assert out.returncode == 2, out.stderr[-3000:]
    assert "Traceback" not in out.stderr and "Task exception" not in out.stderr, out.stderr
    errors = [x for x in out.stderr.splitlines() if x.startswith("scrapy crawl ")]
    assert len(errors) == 1 and errors[0].startswith(line), out.stderr[-3000:]
    assert not (tmp_path / spider).exists()  # nothing started: no run folder


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "2025-02-30"}, "-a since=2025-02-30: expected a date as YYYY-MM-DD"),
        ({"full": "ture"}, "-a full=ture: expected yes or no"),
        ({"feeds": "nope"}, "-a feeds=nope: expected yes or no"),
        ({"sections": "2"}, "-a sections=2: expected yes or no"),
        (
            {"sites": "www.svobodda.org"},
            "-a sites: 'www.svobodda.org' is not an RFE/RL site; did you mean www.svoboda.org",
        ),
        (
            {"sitess": "svoboda"},
            "-a sitess: not an argument of spider 'rferl'; did you mean sites?",
        ),
    ],
)
def test_rferl_arguments(kwargs, message):
    with pytest.raises(ArgumentError, match="^" + message.replace("?", r"\?")):
        RferlSpider.check_arguments(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give one of -a site=https://example.org or -a sites_file=sites.toml"),
        ({"site": "ftp://x"}, r"-a arguments: site 'ftp://x' is not an http\(s\) URL"),
        ({"site": "a.example", "depth": "-1"}, "-a arguments: depth must be 0 or more, not -1"),
        ({"site": "a.example", "since": "1.1.2025"}, "-a arguments: since: expected a date"),
        ({"site": "a.example", "allow": "("}, r"-a arguments: allow '\(' is not a regex"),
        ({"site": "a.example", "sitemaps": "maybe"}, "-a arguments: sitemaps 'maybe' is not yes"),
        ({"site": "a.example", "full": "x"}, "-a full=x: expected yes or no"),
        ({"site": "a.example", "alow": "x"}, "-a alow: not an argument of spider 'news'; did"),
        ({"sites_file": "/nowhere/sites.toml"}, "sites file /nowhere/sites.toml: cannot read"),
    ],
)
def test_news_arguments(kwargs, message):
    with pytest.raises(ArgumentError, match="^" + message):
        NewsSpider.check_arguments(**kwargs)


def test_good_arguments_pass():
    RferlSpider.check_arguments(sites="svoboda", since="2025-01-31", full="yes", feeds="off")
    NewsSpider.check_arguments(site="a.example", depth="2", sitemaps="no", full="")
    assert RferlSpider(full="").full is False  # empty keeps the default


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("svobodda", ["svoboda (www.svoboda.org)", "svaboda (www.svaboda.org)"]),
        ("farda", ["radiofarda (www.radiofarda.com)"]),  # a short name, not only hosts
        ("currenttime.com", ["currenttime (www.currenttime.tv)"]),
    ],
)
def test_a_misspelt_site_gets_the_closest_names(typed, suggested):
    with pytest.raises(ArgumentError) as raised:
        select_services(f"svoboda,{typed}")
    message = str(raised.value)
    assert message.startswith(f"-a sites: '{typed}' is not an RFE/RL site; did you mean ")
    assert all(name in message for name in suggested), message
    assert "\n" not in message and len(message) < 200


def test_parsers():
    assert parse_flag("x", "On", default=False) is True
    assert parse_flag("x", " ", default=True) is True
    assert parse_since("since", None) is None
    with pytest.raises(ArgumentError, match=r"^-a since=soon: expected a date"):
        parse_since("since", "soon")
    check_known("s", ["a", "_job"], ["a"])  # scrapyd's _job passes
