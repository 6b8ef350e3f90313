"""Run the real ``scrapy crawl`` in a subprocess through a web double, collect what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_HOSTS = "www.rferl.org,www.svoboda.org,www.radiofarda.com,pressroom.rferl.org"
#: The rferl arguments that crawl the whole sample site (archive slices included).
SAMPLE_ARGS = ("-a", f"sites={SAMPLE_HOSTS}", "-a", "since=2012-01-01")


@dataclass
class CrawlResult:
    folder: Path
    items: list[dict]
    stats: dict
    requests: list[dict]
    returncode: int
    stdout: str
    log: str
    warcs: list[Path] = field(default_factory=list)


def crawl_command(
    output: Path,
    run_id: str | None,
    *args: str,
    spider: str = "rferl",
    log_level: str | None = "DEBUG",
) -> list[str]:
    """The ``scrapy crawl <spider>`` command line the tests run (output, run id, fast
    autothrottle, a log file per run), ``args`` appended. ``run_id=None`` leaves the run id to
    the crawl (a timestamp, as users get) and logs to ``<output>/crawl.log``."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"NEWSARCHIVE_OUTPUT={output}"]
    if run_id is not None:
        cmd += ["-s", f"NEWSARCHIVE_RUN_ID={run_id}"]
    cmd += ["-s", "AUTOTHROTTLE_START_DELAY=0.01", "-s", "AUTOTHROTTLE_MAX_DELAY=0.5"]
    if log_level:
        cmd += ["-s", f"LOG_LEVEL={log_level}"]
    return [*cmd, "-s", f"LOG_FILE={log_path(output, run_id)}", *args]


def log_path(output: Path, run_id: str | None) -> Path:
    return output / f"{run_id or 'crawl'}.log"


def run_crawl(
    double,
    output: Path,
    *args: str,
    spider: str = "rferl",
    run_id: str | None = "test",
    timeout: float = 300,
    extra_env: dict[str, str] | None = None,
) -> CrawlResult:
    """``scrapy crawl <spider>`` from the repository root, proxied through ``double``
    (``run_id=None``: the crawl's own timestamp run id, in an ``output`` of its own)."""
    output.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **proxy_vars(double.proxy_url), **(extra_env or {})}
    double.clear_log()
    cmd = crawl_command(output, run_id, *args, spider=spider)
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if run_id is None:
        (folder,) = [p for p in (output / spider).iterdir() if p.is_dir() and p.name != "latest"]
    else:
        folder = output / spider / run_id
    log_file = log_path(output, run_id)
    items_path = folder / "items.jsonl"
    items = (
        [json.loads(line) for line in items_path.read_text("utf-8").splitlines() if line.strip()]
        if items_path.exists()
        else []
    )
    stats_path = folder / "stats.json"
    stats = json.loads(stats_path.read_text("utf-8")) if stats_path.exists() else {}
    return CrawlResult(
        folder=folder,
        items=items,
        stats=stats,
        requests=double.requests(),
        returncode=proc.returncode,
        stdout=proc.stdout + proc.stderr,
        log=log_file.read_text("utf-8", errors="replace") if log_file.exists() else "",
        warcs=sorted(folder.glob("*.warc.gz")),
    )


def proxy_vars(proxy_url: str) -> dict[str, str]:
    return {
        "http_proxy": proxy_url,
        "https_proxy": proxy_url,
        "HTTP_PROXY": proxy_url,
        "HTTPS_PROXY": proxy_url,
        "no_proxy": "",
        "NO_PROXY": "",
    }


def load_expected(site: Path) -> dict:
    return json.loads((site / "EXPECTED.json").read_text("utf-8"))
