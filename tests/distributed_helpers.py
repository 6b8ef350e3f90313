"""A real Redis server, a sample site grown by generated articles, and distributed workers.

Shared by ``tests/test_distributed.py`` and ``bench/distributed_crawl.py``. The Redis server is
Debian's ``redis-server`` on a free loopback port, its files in a temporary folder, stopped at the
end; no persistence (``--save ''``).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.crawl_helpers import REPO, SAMPLE_ARGS, crawl_command

SAMPLE_SITE = REPO / "tests" / "site"
TEMPLATE = SAMPLE_SITE / "www.rferl.org/a/kazakhstan-drought-wheat-harvest-farmers/33421815.html"
#: First id of the generated articles (above every id of the sample site).
FIRST_GENERATED_ID = 50_000_000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server(folder: Path, timeout: float = 20.0) -> Iterator[str]:
    """A fresh ``redis-server`` on 127.0.0.1; yields its URL; stops it (and waits) at the end."""
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "redis.log"
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", ""]
    proc = subprocess.Popen(
        [executable, *args, "--appendonly", "no", "--logfile", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + timeout
        try:
            while True:  # ready when it answers PING
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start: {log}") from None
                    time.sleep(0.05)
        finally:
            client.close()
        print(f"redis-server listening on {url} (folder {folder})")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def build_site(root: Path, articles: int) -> list[str]:
    """The sample site plus ``articles`` generated rferl.org articles (an archive slice listed in
    the sitemap index); returns the generated article ids."""
    shutil.copytree(SAMPLE_SITE, root)
    host = root / "www.rferl.org"
    page = TEMPLATE.read_text("utf-8")
    ids = [str(FIRST_GENERATED_ID + n) for n in range(articles)]
    folder = host / "a" / "generated"
    folder.mkdir(parents=True)
    for aid in ids:
        (folder / f"{aid}.html").write_text(page.replace("33421815", aid), "utf-8")
    entries = "".join(
        f"<url><loc>https://www.rferl.org/a/generated/{aid}.html</loc>"
        "<lastmod>2025-05-20T10:00:00Z</lastmod></url>"
        for aid in ids
    )
    (host / "sitemap_8_3.xml").write_text(
        f'<?xml version="1.0" encoding="utf-8"?><urlset xmlns="{SITEMAP_NS}">{entries}</urlset>',
        "utf-8",
    )
    index = host / "sitemap.xml"
    slice_entry = (
        "<sitemap><loc>https://www.rferl.org/sitemap_8_3.xml.gz</loc>"
        "<lastmod>2025-05-20T10:00:00Z</lastmod></sitemap></sitemapindex>"
    )
    index.write_text(index.read_text("utf-8").replace("</sitemapindex>", slice_entry), "utf-8")
    return ids


def expected_article_ids(generated: list[str]) -> set[str]:
    """Every article of the grown site (the sample site's ground truth + the generated ones)."""
    truth = json.loads((SAMPLE_SITE / "EXPECTED.json").read_text("utf-8"))
    return {a["article_id"] for a in truth["articles"]} | set(generated)


def worker_command(output: Path, run_id: str, url: str, worker: str, *extra: str) -> list[str]:
    """``scrapy crawl rferl`` as one worker of the distributed run ``run_id``."""
    return crawl_command(
        output,
        f"{run_id}",
        *SAMPLE_ARGS,
        "-s",
        f"NEWSARCHIVE_DISTRIBUTED={url}",
        "-s",
        f"NEWSARCHIVE_WORKER_ID={worker}",
        "-s",
        "NEWSARCHIVE_EXTRACT_WORKERS=0",  # 2 cores: no pool of extraction processes per worker
        "-s",
        "NEWSARCHIVE_DISTRIBUTED_HEARTBEAT=5",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s",
        f"LOG_FILE={output / f'{run_id}-{worker}.log'}",
        *extra,
        log_level="INFO",
    )


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.endswith(b"\n"))
