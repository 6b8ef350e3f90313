"""A crawl's WARCs replay in pywb and render in a real headless Chromium.

pywb lives in its own virtualenv (its pins conflict with the project's: it needs
``cryptography<48``/``pyOpenSSL<26.2`` and ``brotlipy``, which would replace the ``brotli`` module
Scrapy uses). The venv is made once from ``tests/pywb-requirements.txt`` (exact pins) at
``$NEWSARCHIVE_PYWB_VENV`` or ``<project venv>/pywb`` and reused. The browser is Debian's
``chromium`` + ``chromium-driver`` (``./dev test`` installs them), driven by Selenium: no browser
download. The screenshot is kept as ``test-artifacts/browser-replay.png``.

The same seed article archived with its page requisites (``-a requisites=1``, collection
``look``) is replayed with the network cut (every host name but pywb's loopback address fails to
resolve): its stylesheet must apply and its picture load from the archive alone
(``test-artifacts/browser-replay-requisites.png``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from newsarchive.webdouble import WebDouble
from tests.crawl_helpers import REPO, SAMPLE_ARGS, run_crawl
from tests.pywb_env import pywb_venv

pytestmark = pytest.mark.slow

SEED = (
    "https://www.rferl.org/a/"
    "russian_foreign_minister_lavrov_to_syria_on_diplomatic_mission/24475926.html"
)
HEADLINE = "Russia's Lavrov Says Assad Ready For Talks"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "test-artifacts"
#: Every host name but the loopback address pywb listens on fails to resolve: the network is cut.
NETWORK_CUT = ("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-proxy-server")
HEADLINE_STYLE = (
    "const s = getComputedStyle(document.querySelector('h1.pg-title'));"
    "return [s.color, s.fontSize, s.fontFamily, s.borderLeftWidth];"
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll until pywb answers (any HTTP status); fail early if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pywb exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)  # polling interval, not a wait for a fixed event
    raise AssertionError(f"pywb did not answer {url} within {timeout} s")


@pytest.fixture(scope="module")
def crawl(sample_site, tmp_path_factory):
    double = WebDouble(sample_site, gzip=True, chunked=True).start()
    try:
        result = run_crawl(
            double,
            tmp_path_factory.mktemp("out"),
            *SAMPLE_ARGS,
            run_id="browser",
        )
    finally:
        double.stop()
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.warcs
    return result


@pytest.fixture(scope="module")
def requisites_crawl(sample_site, tmp_path_factory):
    """The seed's service crawled with ``-a requisites=1``."""
    double = WebDouble(sample_site, gzip=True, chunked=True).start()
    try:
        result = run_crawl(
            double,
            tmp_path_factory.mktemp("out-requisites"),
            "-a",
            "sites=www.rferl.org",
            "-a",
            "since=2012-01-01",
            "-a",
            "requisites=1",
            run_id="browser-requisites",
        )
    finally:
        double.stop()
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stats["newsarchive/accounting/requisite"] > 0
    return result


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}


@pytest.fixture(scope="module")
def pywb_home(crawl, requisites_crawl, tmp_path_factory):
    """A pywb folder with collection ``news`` holding the crawl's WARCs and ``look`` the
    requisites crawl's, indexed by pywb."""
    venv = pywb_venv()
    home = tmp_path_factory.mktemp("pywb")
    wb_manager = str(venv / "bin/wb-manager")
    for collection, run in (("news", crawl), ("look", requisites_crawl)):
        subprocess.run([wb_manager, "init", collection], cwd=home, env=_env(), check=True)
        subprocess.run(
            [wb_manager, "add", collection, *map(str, run.warcs)],
            cwd=home,
            env=_env(),
            check=True,
        )
    return home


@pytest.fixture(scope="module")
def pywb(pywb_home):
    """pywb serving collection ``news`` on a free loopback port."""
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not tool.exists():
            pytest.fail(f"{tool} missing: apt-get install -y chromium chromium-driver")
    venv = pywb_venv()
    home = pywb_home
    env = _env()
    # The user's three commands, nothing else: pywb indexes the WARCs itself (the metadata
    # records with the extracted items are filed apart from the pages, see the next test).
    port = free_port()
    log = open(home / "wayback.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [str(venv / "bin/wayback"), "-b", "127.0.0.1", "-p", str(port)],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/news/", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_pywb_files_no_metadata_record_under_a_page(pywb_home, crawl):
    """pywb's own index: every line under a page's key is a capture of that page.

    A metadata record under the page's key is served instead of the page whenever it is the
    newer capture (it is written after extraction), whatever the browser test below shows.
    """
    index = pywb_home / "collections" / "news" / "indexes" / "index.cdxj"
    lines = [line.split(" ", 2) for line in index.read_text("utf-8").splitlines()]
    entries = [(key, json.loads(data)["url"]) for key, _, data in lines]
    page_keys = {key for key, url in entries if url.startswith("http")}
    misfiled = [url for key, url in entries if key in page_keys and not url.startswith("http")]
    assert not misfiled, misfiled[:5]
    # pywb does index the metadata records (so the check above has something to find).
    filed_apart = [url for _, url in entries if url.startswith("metadata://newsarchive/")]
    assert len(filed_apart) == len(crawl.items)


def test_pywb_finds_the_index_of_our_wacz(crawl, tmp_path):
    """``wb-manager add --unpack-wacz`` takes the WACZ's index (it reads indexes/*.cdx[.gz])."""
    (wacz,) = crawl.folder.glob("*.wacz")
    wb_manager = str(pywb_venv() / "bin/wb-manager")
    subprocess.run([wb_manager, "init", "w"], cwd=tmp_path, env=_env(), check=True)
    added = subprocess.run(
        [wb_manager, "add", "--unpack-wacz", "w", str(wacz)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "does not contain any indices" not in added.stderr + added.stdout
    index = tmp_path / "collections" / "w" / "indexes" / "index.cdxj"
    ours = (crawl.folder / "indexes" / "index.cdxj").read_text("utf-8").splitlines()
    theirs = index.read_text("utf-8").splitlines()
    assert len(theirs) == len(ours)
    archived = {p.name for p in (tmp_path / "collections" / "w" / "archive").iterdir()}
    assert {json.loads(line.split(" ", 2)[2])["filename"] for line in theirs} <= archived
    seed = [line for line in theirs if json.loads(line.split(" ", 2)[2])["url"] == SEED]
    assert seed and json.loads(seed[0].split(" ", 2)[2])["mime"] == "text/html"


def chromium(profile: Path, *flags: str):
    """Headless Debian Chromium driven by Debian's chromedriver (Selenium, no download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, *flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    return driver


def open_replayed(driver, url: str) -> None:
    """Open ``url`` in pywb and enter the iframe holding the archived page, once the headline
    is there and the page has loaded (its stylesheets and images included)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    # pywb's top frame holds the archived page in an iframe: wait for it, then enter it.
    WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "iframe#replay_iframe")
    )
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "iframe#replay_iframe"))
    WebDriverWait(driver, 30).until(lambda d: HEADLINE in d.find_element(By.TAG_NAME, "body").text)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete'"
            " && Array.from(document.images).every(i => i.complete)"
        )
    )


def test_seed_article_renders_in_chromium(pywb, tmp_path, sample_site):
    from selenium.webdriver.common.by import By

    driver = chromium(tmp_path / "profile")
    try:
        open_replayed(driver, f"{pywb}/news/{SEED}")
        text = driver.find_element(By.TAG_NAME, "body").text
        # The page itself, not some other record of the URL (the item JSON has no h1 or p).
        headings = [h.text.strip() for h in driver.find_elements(By.TAG_NAME, "h1")]
        paragraphs = [p.text.strip() for p in driver.find_elements(By.TAG_NAME, "p")]
        driver.switch_to.default_content()
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "browser-replay.png"))
    finally:
        driver.quit()
    first = _first_paragraph(sample_site)
    assert HEADLINE in headings, headings
    assert " ".join(first.split()) in [" ".join(p.split()) for p in paragraphs]
    assert " ".join(first.split()) in " ".join(text.split()), f"{first[:60]!r} not rendered"
    assert (ARTIFACTS / "browser-replay.png").stat().st_size > 10_000


def test_article_with_requisites_looks_like_the_page(pywb, tmp_path):
    """Network cut: the archived stylesheet styles the headline, the archived picture loads."""
    driver = chromium(tmp_path / "plain", *NETWORK_CUT)
    try:  # the browser's own look of the headline: the archive without requisites
        open_replayed(driver, f"{pywb}/news/{SEED}")
        default_style = driver.execute_script(HEADLINE_STYLE)
    finally:
        driver.quit()
    driver = chromium(tmp_path / "look", *NETWORK_CUT)
    try:
        open_replayed(driver, f"{pywb}/look/{SEED}")
        style = driver.execute_script(HEADLINE_STYLE)
        lead, logo = driver.execute_script(
            "const f = i => i && [i.naturalWidth, i.currentSrc];"
            "return [f(document.querySelector('.cover-media img')),"
            " f(document.querySelector('.header__logo img'))];"
        )
        loaded = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name);"
        )
        driver.switch_to.default_content()
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "browser-replay-requisites.png"))
    finally:
        driver.quit()
    # The stylesheet's headline (colour, size, web font first, rule) instead of the default.
    assert style != default_style, style
    assert style[0] == "rgb(0, 41, 79)" and style[1] == "42px", style
    assert style[2].startswith('"Pangea Sample"') and style[3] == "8px", style
    assert default_style[0] == "rgb(0, 0, 0)", default_style
    # The article picture: the one srcset size archived, loaded from the archive.
    assert lead[0] > 0 and lead[1].endswith("_w650_r1_s.jpg"), lead
    assert logo[0] > 0, logo
    base = pywb.rstrip("/") + "/"
    assert loaded and all(url.startswith(base) for url in loaded), loaded[:5]
    assert any("style.css" in url for url in loaded)
    assert (ARTIFACTS / "browser-replay-requisites.png").stat().st_size > 10_000


def _first_paragraph(sample_site: Path) -> str:
    """The first paragraph of the seed article, from the sample site's ground truth."""
    expected = json.loads((sample_site / "EXPECTED.json").read_text("utf-8"))
    (article,) = [a for a in expected["articles"] if a["article_id"] == "24475926"]
    return article["first_paragraph"].strip()
