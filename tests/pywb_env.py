"""pywb's own virtualenv, for the browser replay test and for users.

pywb's pins conflict with the project's (``cryptography<48``, ``pyOpenSSL<26.2``, ``brotlipy``,
which would replace the ``brotli`` module Scrapy uses), so it gets a venv of its own, made once
from ``tests/pywb-requirements.txt`` (exact pins) and reused while that file is unchanged.
``./dev test`` calls ``python -m tests.pywb_env`` before pytest so the install is a setup step,
not part of a test's time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYWB_REQUIREMENTS = REPO / "tests" / "pywb-requirements.txt"


def pywb_venv() -> Path:
    """The pywb virtualenv, created from the pinned requirements the first time."""
    venv = Path(os.environ.get("NEWSARCHIVE_PYWB_VENV") or Path(sys.prefix) / "pywb")
    stamp = venv / ".requirements"
    wanted = PYWB_REQUIREMENTS.read_text("utf-8")
    if stamp.exists() and stamp.read_text("utf-8") == wanted and (venv / "bin/wayback").exists():
        return venv
    python = shutil.which("python3.11") or sys.executable
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin/python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(PYWB_REQUIREMENTS),
        ],
        check=True,
        timeout=900,
    )
    stamp.write_text(wanted, "utf-8")
    return venv


if __name__ == "__main__":
    print(pywb_venv())
