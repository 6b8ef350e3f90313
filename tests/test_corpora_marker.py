"""A clone without the corpora: their tests are skipped in one summary line, everything else
runs; where the corpora are required (CI), their absence fails instead.

Runs the real pytest on a test module that needs the corpora, with the corpora absent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import REPO

#: One test that reads the corpora, the others do not.
MODULE = "tests/test_services.py"


def run_pytest(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "NEWSARCHIVE_REQUIRE_CORPORA"}
    environ.update(NEWSARCHIVE_CORPORA=str(tmp_path / "no-corpora"), **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", MODULE, "-p", "no:cacheprovider", "-q"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_absent_corpora_skip_their_tests_in_one_summary_line(tmp_path):
    out = run_pytest(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if "corpora" in line]
    assert len(lines) == 1, out.stdout
    assert lines[0].startswith("SKIPPED [1] tests/conftest.py:")
    assert "needs the external corpora, absent" in lines[0]
    assert "NEWSARCHIVE_CORPORA" in lines[0] and "pinned commits" in lines[0]
    assert re.search(r"\n\d+ passed, 1 skipped in ", out.stdout), out.stdout


def test_required_corpora_that_are_absent_fail(tmp_path):
    out = run_pytest(tmp_path, NEWSARCHIVE_REQUIRE_CORPORA="1")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "the corpora are required (NEWSARCHIVE_REQUIRE_CORPORA)" in out.stdout
    assert re.search(r"\n\d+ passed, 1 error in ", out.stdout), out.stdout


def test_the_readme_names_each_corpus_with_its_pinned_commit():
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("### The corpora", 1)[1].split("\n## ", 1)[0]
    for folder in ("article-extraction-benchmark", "fundus-parser-testdata", "rferl/sitemaps",
                   "feeds-sitemaps", "warc", "compression-edge-cases"):  # fmt: skip
        row = next(line for line in section.splitlines() if line.startswith(f"| `{folder}"))
        assert "https://github.com/" in row and " @ `" in row, row


def test_dev_says_absent_corpora_are_skipped_not_failed():
    dev = (REPO / "dev").read_text("utf-8")
    assert "read them are skipped" in dev
    assert dev.count("read them will fail") == 1  # only where NEWSARCHIVE_REQUIRE_CORPORA is set
