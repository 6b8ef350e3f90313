"""The package as a user gets it: a wheel installed into someone else's Scrapy project.

The slow test builds the wheel, installs it into a fresh virtualenv (exact versions from
``constraints.txt``), makes a project with ``scrapy startproject``, adds the add-on and a
link-following spider of the user's own that marks its article requests, and crawls the sample
site through the web double.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.webdouble_fixtures import proxy_env

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))


def test_every_package_folder_is_in_the_wheel_list():
    """``packages`` is an explicit list (spiders/ is mapped to newsarchive.spiders), so a new
    subpackage must be added to it; this finds one that was not."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "newsarchive").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    found.add("newsarchive.spiders")
    assert listed == found
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"newsarchive.spiders": "spiders"}


def test_dependencies_are_ranges_pinned_in_constraints():
    """pyproject.toml declares ranges (users install beside their own pins); constraints.txt
    pins every one of them exactly, for ./dev and CI."""
    project = PYPROJECT["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins = {}
    for line in (REPO / "constraints.txt").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    for requirement in requirements:
        assert "==" not in requirement, f"{requirement}: declare a range, pin in constraints.txt"
        name = requirement.split(";")[0]
        for sep in "<>=!~[":
            name = name.split(sep)[0]
        assert name.strip().lower().replace("_", "-") in pins, f"{name} not in constraints.txt"


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``python -m build`` makes from the checkout, checked by ``twine check``."""
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)])
    (wheel,) = dist.glob("newsarchive-*.whl")
    _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel)])
    return wheel


@pytest.mark.slow
def test_wheel_holds_the_package_its_data_and_the_spiders_under_newsarchive(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.startswith("newsarchive-")}
    assert tops == {"newsarchive"}  # no top-level spiders (or tests) module
    for needed in (
        "newsarchive/spiders/rferl.py",
        "newsarchive/spiders/news.py",
        "newsarchive/spiders/base.py",
        "newsarchive/data/rferl_services.json",
        "newsarchive/extraction/data/notices.json",
        "newsarchive/py.typed",
    ):
        assert needed in names


USER_SPIDER = '''
import scrapy
from scrapy.linkextractors import LinkExtractor


class FollowSpider(scrapy.Spider):
    """A user's own link-following spider: it knows nothing of newsarchive but one meta key."""

    name = "follow"
    allowed_domains = ["www.rferl.org"]
    start_urls = ["https://www.rferl.org/"]
    links = LinkExtractor(allow_domains=["www.rferl.org"])

    def parse(self, response):
        yield {"kind": "page", "url": response.url, "title": response.css("title::text").get()}
        for link in self.links.extract_links(response):
            if "/a/" in link.url:
                yield response.follow(link, self.parse_story, meta={"newsarchive_article": True})
            else:
                yield response.follow(link, self.parse)

    def parse_story(self, response):
        yield {"kind": "story", "url": response.url, "h1": response.css("h1::text").get()}
'''


@pytest.mark.slow
def test_addon_in_a_users_own_project(wheel, tmp_path, webdouble_factory, sample_site):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "-c", str(REPO / "constraints.txt"), str(wheel)])
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # The install must not shadow a user's own ``spiders`` package.
    gone = subprocess.run(
        [str(py), "-c", "import spiders"], cwd=tmp_path, env=clean_env, capture_output=True
    )
    assert gone.returncode != 0 and b"ModuleNotFoundError" in gone.stderr

    _run([str(venv / "bin" / "scrapy"), "startproject", "userproj"], cwd=tmp_path, env=clean_env)
    project = tmp_path / "userproj"
    (project / "userproj" / "spiders" / "follow.py").write_text(USER_SPIDER, "utf-8")
    output = tmp_path / "archive"
    with (project / "userproj" / "settings.py").open("a", encoding="utf-8") as settings:
        settings.write(
            "\nADDONS = {'newsarchive.addon.NewsarchiveAddon': 0}\n"
            f"NEWSARCHIVE_OUTPUT = {str(output)!r}\n"
            "NEWSARCHIVE_RUN_ID = 'userrun'\n"
            "COMMANDS_MODULE = 'newsarchive.commands'\n"
            "AUTOTHROTTLE_ENABLED = False\nDOWNLOAD_DELAY = 0\n"
        )
    double = webdouble_factory(sample_site)
    user_feed = tmp_path / "user.jsonl"
    crawl = subprocess.run(
        [str(venv / "bin" / "scrapy"), "crawl", "follow", "-O", str(user_feed)],
        cwd=project,
        env={**clean_env, **proxy_env(double)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert crawl.returncode == 0, crawl.stderr[-4000:]

    folder = output / "follow" / "userrun"
    warcs = sorted(folder.glob("*.warc.gz"))
    assert warcs
    _run([str(venv / "bin" / "warcio"), "check", *map(str, warcs)])

    articles = [
        json.loads(line) for line in (folder / "items.jsonl").read_text("utf-8").splitlines()
    ]
    assert articles, "no article item in the run folder"
    assert all(item["text"] and item["warc"]["filename"] for item in articles)
    assert any(item["legal_notice"] for item in articles)
    for item in articles:
        notice = item["legal_notice"]
        if notice:
            assert notice["text"] not in item["text"]

    user_items = [json.loads(line) for line in user_feed.read_text("utf-8").splitlines()]
    stories = {item["url"] for item in user_items if item.get("kind") == "story"}
    pages = [item for item in user_items if item.get("kind") == "page"]
    assert pages and stories
    assert {item["url"] for item in articles} <= stories  # extraction saw the marked pages
    # The user's items reach their feed untouched: exactly the keys their spider set. (Article
    # items go to every feed too, as Scrapy sends every item to every feed; README says how to
    # keep them apart with ``item_classes``.)
    own = [item for item in user_items if "kind" in item]
    assert all(set(item) in ({"kind", "url", "title"}, {"kind", "url", "h1"}) for item in own)

    # newsarchive's commands work in the user's project too (COMMANDS_MODULE).
    dataset = tmp_path / "articles.jsonl"
    _run(
        [str(venv / "bin" / "scrapy"), "dataset", str(output / "follow"), "-O", str(dataset)],
        cwd=project,
        env=clean_env,
    )
    assert len(dataset.read_text("utf-8").splitlines()) == len(articles)
