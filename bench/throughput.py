"""Throughput: the whole crawl against the tools a user would pick instead, in one run.

Builds a mirror of N real pages (``bench/mirror.py``: the extraction corpora's pages re-hosted
under RFE/RL URLs, read in place), serves it with the web double in its own process (HTTPS
through the proxy; plain HTTP on ``localhost`` for trafilatura's command line, which cannot use
an HTTP proxy), and measures, one after the other on the same machine:

* ``scrapy crawl rferl`` with everything on (WARC, extraction, state, CDXJ, WACZ, self-check);
  the same with one extraction worker; with extraction off; the bare spider (``ADDONS={}``);
* ``extract()`` alone and ``trafilatura.bare_extraction(with_metadata=True)`` alone on the
  corpus pages' HTML (``bench/extract_alone.py``: each in a process of its own for its peak RSS;
  the CPU per page of both from one process alternating them in blocks of pages, so load from
  elsewhere slows both alike);
* trafilatura's command line (``-i urls --parallel 4``, sleep 0) and a naive Scrapy spider
  calling trafilatura inline (``bench/naive_spider.py``), on the same URLs;
* ``wget --warc-file`` (archive only) and ``scrapy reextract`` over the full crawl's WARCs,
  next to its floor (``bench/reextract_floor.py``: its workers' own per-page work alone, on the
  mirror's pages held in memory).

For each: pages/s, CPU ms per page (all its processes; the main process's own share where the
tool has workers), the web double's CPU per page and the peak RSS of the largest process.
Then the issue-11 targets as ratios; ``--check`` exits 1 when one is missed. ``--scale M`` also
crawls an M-page mirror (20,000 in the issue) and compares its peak RSS with the N-page crawl.

    python bench/throughput.py [--pages 2000] [--scale 20000] [--check] [--only ROW ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from configparser import ConfigParser
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import mirror  # noqa: E402 - after the path fix above
from newsarchive.extraction.bounded import default_workers  # noqa: E402

PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "no_proxy")
#: Politeness off, the same concurrency for every Scrapy row.
SCRAPY_SETTINGS = (
    "AUTOTHROTTLE_ENABLED=False",
    "DOWNLOAD_DELAY=0",
    "CONCURRENT_REQUESTS=16",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "LOG_LEVEL=ERROR",
)
ROWS = (
    "full",
    "one-worker",
    "no-extraction",
    "bare",
    "extract",
    "trafilatura-cli",
    "naive-spider",
    "wget",
    "reextract",
)


@dataclass
class Row:
    """One measured line of the table."""

    name: str
    pages: int
    outputs: int
    seconds: float
    cpu: float
    own_cpu: float | None
    double_cpu: float
    rss_mib: float

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def ms(self, seconds: float | None) -> float | None:
        return None if seconds is None else 1000 * seconds / self.pages


class Double:
    """The web double in a process of its own, so its CPU is measured apart from the tools'."""

    def __init__(self, root: Path, workdir: Path) -> None:
        port_file = workdir / "double.port"
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "newsarchive.webdouble", "--root", str(root)),
                *("--port", "0", "--port-file", str(port_file)),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise SystemExit("the web double did not start")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.proxy = f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        """CPU seconds the double has used so far (utime + stime from /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def _env(proxy: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    if proxy:
        env.update(http_proxy=proxy, https_proxy=proxy, no_proxy="")
    return env


def run(
    name: str, cmd: list[str], double: Double, pages: int, *, proxy: bool = True, cwd: Path = REPO
) -> Row:
    """Run ``cmd`` to completion through ``bench/launch.py``: wall time, CPU of it and its
    waited-for children, peak RSS (its own, not inherited from this process)."""
    before = double.cpu()
    handle, usage_name = tempfile.mkstemp(prefix="newsarchive-usage-", suffix=".json")
    os.close(handle)
    usage_file = Path(usage_name)
    launcher = [sys.executable, "-I", "-S", str(REPO / "bench" / "launch.py"), str(usage_file)]
    started = time.perf_counter()
    try:
        process = subprocess.run(
            [*launcher, *cmd],
            cwd=cwd,
            env=_env(double.proxy if proxy else None),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            sys.stderr.write(process.stderr.decode(errors="replace")[-3000:])
            raise SystemExit(f"{name} failed with status {process.returncode}: {' '.join(cmd)}")
        usage = json.loads(usage_file.read_text())
    finally:
        usage_file.unlink(missing_ok=True)
    return Row(
        name=name,
        pages=pages,
        outputs=0,
        seconds=seconds,
        cpu=usage["cpu"],
        own_cpu=None,
        double_cpu=double.cpu() - before,
        rss_mib=usage["maxrss_kib"] / 1024,
    )


def crawl(name: str, double: Double, pages: int, output: Path, *settings: str) -> Row:
    """``scrapy crawl rferl`` of the mirror (through ``bench/measured.py`` for the own CPU)."""
    cpu_file = output.with_suffix(".cpu.json")
    cmd = [sys.executable, str(REPO / "bench" / "measured.py"), str(cpu_file), "crawl", "rferl"]
    cmd += ["-a", f"sites={mirror.HOST}", "-a", "feeds=0"]
    for setting in (*SCRAPY_SETTINGS, f"NEWSARCHIVE_OUTPUT={output}", *settings):
        cmd += ["-s", setting]
    row = run(name, cmd, double, pages)
    row.own_cpu = json.loads(cpu_file.read_text())["own_cpu"]
    items = [p for p in output.glob("rferl/*/items.jsonl") if not p.parent.is_symlink()]
    row.outputs = sum(len(p.read_text("utf-8").splitlines()) for p in items)
    return row


def extract_alone(system: str, pages: int) -> Row:
    """One ``bench/extract_alone.py`` process: its CPU per page and peak RSS."""
    found = _extract_alone_run(system)
    seconds = found["ms_per_page"] * found["pages"] / 1000
    name = "extract() alone" if system == "newsarchive" else "trafilatura.bare_extraction alone"
    return Row(name, found["pages"], found["pages"], seconds, seconds, None, 0.0, found["rss_mib"])


def extract_interleaved() -> dict[str, float]:
    """CPU ms per page of both extractors measured page by page in one process (the ratio's
    source: see ``bench/extract_alone.py``)."""
    return _extract_alone_run("both")["ms_per_page"]


def _extract_alone_run(system: str) -> dict:
    return _bench_script("extract_alone.py", system)


def _bench_script(script: str, *args: str) -> dict:
    """The JSON line a ``bench/`` script prints last."""
    cmd = [sys.executable, str(REPO / "bench" / script), *args]
    out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def trafilatura_cli(double: Double, urls: list[str], work: Path) -> Row:
    """trafilatura's own command line on the same pages, as its docs suggest for many URLs."""
    import trafilatura.settings

    config = ConfigParser()
    config.read_dict({"DEFAULT": dict(trafilatura.settings.DEFAULT_CONFIG["DEFAULT"])})
    config["DEFAULT"]["SLEEP_TIME"] = "0"  # politeness off, as for the crawls
    config["DEFAULT"]["SSRF_PROTECTION"] = "off"  # the mirror is on loopback
    with (work / "trafilatura.cfg").open("w") as fh:
        config.write(fh)
    (work / "plain-urls.txt").write_text("\n".join(urls) + "\n")
    out = work / "trafilatura-out"
    cli = Path(sys.executable).with_name("trafilatura")
    cmd = [str(cli), "-i", str(work / "plain-urls.txt"), "--parallel", "4"]
    cmd += ["--config-file", str(work / "trafilatura.cfg"), "-o", str(out)]
    row = run(
        "trafilatura CLI (extract only; one file per distinct text)",
        cmd,
        double,
        len(urls),
        proxy=False,
    )
    # the command line spreads many files over numbered subfolders
    row.outputs = sum(1 for p in out.rglob("*") if p.is_file()) if out.is_dir() else 0
    return row


def naive_spider(double: Double, urls_file: Path, pages: int, work: Path) -> Row:
    out = work / "naive.jsonl"
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(REPO / "bench" / "naive_spider.py")]
    cmd += ["-a", f"urls={urls_file}", "-O", str(out), "-s", "ADDONS={}"]
    for setting in SCRAPY_SETTINGS:
        cmd += ["-s", setting]
    row = run("naive Scrapy + trafilatura spider", cmd, double, pages)
    row.outputs = len(out.read_text("utf-8").splitlines())
    return row


def wget(double: Double, urls_file: Path, pages: int, work: Path) -> Row:
    folder = work / "wget"
    folder.mkdir()
    cmd = ["wget", "--quiet", "--no-check-certificate", "-i", str(urls_file)]
    cmd += ["--warc-file", str(folder / "wget"), "-P", str(folder / "files"), "--delete-after"]
    row = run("wget --warc-file (archive only)", cmd, double, pages)
    row.outputs = pages if (folder / "wget.warc.gz").is_file() else 0
    return row


def reextract(
    double: Double, crawl_output: Path, pages: int, work: Path, name: str | None = None
) -> Row:
    runs = [p.parent for p in crawl_output.glob("rferl/*/items.jsonl") if not p.parent.is_symlink()]
    if not runs:
        raise SystemExit("reextract needs the full crawl's run folder: do not leave out 'full'")
    out = work / "reextract.jsonl"
    cmd = [sys.executable, "-m", "scrapy", "reextract", str(runs[0]), "-O", str(out)]
    name = name or "scrapy reextract (the full crawl's WARCs)"
    row = run(name, cmd, double, pages, proxy=False)
    row.outputs = len(out.read_text("utf-8").splitlines())
    return row


def reextract_floor(pages: int) -> Row:
    """``bench/reextract_floor.py``: reextract's workers' own work, nothing else."""
    found = _bench_script("reextract_floor.py", "--pages", str(pages))
    cpu = found["cpu_ms_per_page"] * pages / 1000
    name = "reextract floor: its workers' work alone (pages in memory, no archive, no start)"
    return Row(name, pages, pages, found["seconds"], cpu, None, 0.0, found["rss_mib"])


def _fmt(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| what | pages | items/files out | s | pages/s | CPU ms/page | of which main process"
        " | web double CPU ms/page | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.pages} | {r.outputs} | {r.seconds:.1f} | {r.pages_per_s:.1f}"
            f" | {_fmt(r.ms(r.cpu))} | {_fmt(r.ms(r.own_cpu))} | {_fmt(r.ms(r.double_cpu))}"
            f" | {r.rss_mib:.0f} |"
        )
    return "\n".join(lines)


def bound(extract_row: Row, cores: int) -> float:
    """Pages/s of ``cores`` processes doing nothing but ``extract()``: reextract's yardstick."""
    return cores * 1000 / extract_row.ms(extract_row.cpu)  # type: ignore[operator]


def targets(rows: dict[str, Row], cores: int, scale: Row | None) -> list[tuple[str, float, float]]:
    """(what, measured ratio, limit) for each issue-11 target the run has the rows for; a
    ratio must be >= its limit when the limit is positive, <= -limit when negative."""
    found = []
    full, cli = rows.get("full"), rows.get("trafilatura-cli")
    if full and cli:
        found.append(
            ("full crawl pages/s / trafilatura CLI", full.pages_per_s / cli.pages_per_s, 1.5)
        )
    ours, theirs = rows.get("extract"), rows.get("trafilatura")
    if ours and theirs:
        found.append(("extract() CPU / bare_extraction CPU", ours.cpu / theirs.cpu, -0.7))
    off, bare = rows.get("no-extraction"), rows.get("bare")
    if off and bare:
        found.append(("no-extraction crawl CPU/page / bare spider", off.cpu / bare.cpu, -1.6))
    again = rows.get("reextract")
    if again and ours:
        found.append(
            (
                "reextract pages/s / (cores / extract() cost)",
                again.pages_per_s / bound(ours, cores),
                0.9,
            )
        )
    if full:
        busy = full.double_cpu / full.seconds
        found.append(("web double busy share of one core in the full crawl", busy, -0.5))
    if scale and full:
        found.append(
            (
                f"peak RSS at {scale.pages} / at {full.pages} pages",
                scale.rss_mib / full.rss_mib,
                -1.25,
            )
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000, help="mirror size (default 2000)")
    parser.add_argument("--scale", type=int, help="also crawl a mirror this big (memory check)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--only", nargs="+", choices=ROWS, help="measure only these rows")
    parser.add_argument("--json", type=Path, help="also write the rows and ratios here")
    parser.add_argument(
        "--identity",
        action="store_true",
        help="serve the mirror's pages uncompressed (default: gzip-encoded, as RFE/RL does)",
    )
    args = parser.parse_args()
    wanted = set(args.only or ROWS)
    if "reextract" in wanted:
        wanted.add("full")
    cores = default_workers()
    rows: dict[str, Row] = {}
    scale_row = scale_again = None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="newsarchive-bench-") as tmp:
        work = Path(tmp)
        site = mirror.build(work / "mirror", args.pages, encoded=not args.identity)
        urls_file = work / "urls.txt"
        urls_file.write_text("\n".join(site.urls) + "\n")
        n = args.pages
        double = Double(site.root, work)
        try:
            if "full" in wanted:
                rows["full"] = crawl(
                    "full crawl (WARC, extraction, state, CDXJ, WACZ)", double, n, work / "full"
                )
            if "one-worker" in wanted:
                rows["one-worker"] = crawl(
                    "full crawl, 1 extraction worker",
                    double,
                    n,
                    work / "one",
                    "NEWSARCHIVE_EXTRACT_WORKERS=1",
                )
            if "no-extraction" in wanted:
                rows["no-extraction"] = crawl(
                    "crawl, extraction off",
                    double,
                    n,
                    work / "off",
                    "NEWSARCHIVE_EXTRACT_ENABLED=False",
                )
            if "bare" in wanted:
                rows["bare"] = crawl(
                    "bare spider (ADDONS={})", double, n, work / "bare", "ADDONS={}"
                )
            if "extract" in wanted:
                # each alone for its peak RSS; the CPU per page of both from one process that
                # alternates them page by page, so load from elsewhere slows both alike
                rows["extract"] = extract_alone("newsarchive", n)
                rows["trafilatura"] = extract_alone("trafilatura", n)
                both = extract_interleaved()
                for key, system in (("extract", "newsarchive"), ("trafilatura", "trafilatura")):
                    row = rows[key]
                    row.cpu = row.seconds = both[system] * row.pages / 1000
            if "trafilatura-cli" in wanted:
                rows["trafilatura-cli"] = trafilatura_cli(
                    double, site.plain_urls(double.port), work
                )
            if "naive-spider" in wanted:
                rows["naive-spider"] = naive_spider(double, urls_file, n, work)
            if "wget" in wanted:
                if shutil.which("wget"):
                    rows["wget"] = wget(double, urls_file, n, work)
                else:
                    print("wget not installed: its row is left out", file=sys.stderr)
            if "reextract" in wanted:
                rows["reextract"] = reextract(double, work / "full", n, work)
                rows["reextract-floor"] = reextract_floor(n)
        finally:
            double.stop()
        if args.scale:
            big = work / "big"
            big.mkdir()
            site = mirror.build(big / "mirror", args.scale, encoded=not args.identity)
            double = Double(site.root, big)
            try:
                scale_row = crawl(
                    f"full crawl, {args.scale} pages", double, args.scale, big / "full"
                )
                if "reextract" in wanted:
                    name = f"scrapy reextract, {args.scale} pages"
                    scale_again = reextract(double, big / "full", args.scale, big, name)
            finally:
                double.stop()
    shown = list(rows.values()) + [r for r in (scale_row, scale_again) if r]
    load = os.getloadavg()
    print(
        f"mirror: {args.pages} pages from the corpora, served"
        f" {'uncompressed' if args.identity else 'gzip-encoded'}; cores: {cores}; load average now"
        f" {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {time.perf_counter() - started:.0f} s"
    )
    print(table(shown))
    print()
    missed = []
    for what, ratio, limit in targets(rows, cores, scale_row):
        ok = ratio >= limit if limit > 0 else ratio <= -limit
        sign = ">=" if limit > 0 else "<="
        print(f"{'ok  ' if ok else 'MISS'} {what}: {ratio:.2f} (target {sign} {abs(limit)})")
        if not ok:
            missed.append(what)
    ours = rows.get("extract")
    floor = rows.get("reextract-floor")
    if floor and ours:
        # what reextract would reach if reading the archive, writing the items and starting its
        # processes cost nothing: the bound its target is up against (shown, not a target)
        print(
            "     reextract floor / (cores / extract() cost):"
            f" {floor.pages_per_s / bound(ours, cores):.2f}"
            " (not a target: the workers' own work alone)"
        )
    if scale_again and ours:
        # the same ratio with the processes' start (interpreters, imports, workers) spread over
        # ten times the pages: what a long rebuild runs at (shown, not a target)
        print(
            f"     reextract at {scale_again.pages} pages / (cores / extract() cost):"
            f" {scale_again.pages_per_s / bound(ours, cores):.2f} (not a target)"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": {k: vars(r) for k, r in rows.items()},
                    "targets": targets(rows, cores, scale_row),
                },
                indent=1,
            )
        )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
