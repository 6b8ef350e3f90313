"""``python -m newsarchive.webdouble``: see :func:`newsarchive.webdouble.cli.main`."""

from __future__ import annotations

from newsarchive.webdouble.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
