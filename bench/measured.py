"""Run a Scrapy command line in this process; at exit, write this process's own CPU seconds
and those of its (waited-for) children, e.g. extraction workers, to a JSON file.

    python bench/measured.py OUT.json crawl rferl ...
"""

from __future__ import annotations

import atexit
import json
import resource
import sys
from pathlib import Path


def _write(path: Path) -> None:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    path.write_text(
        json.dumps(
            {
                "own_cpu": own.ru_utime + own.ru_stime,
                "children_cpu": children.ru_utime + children.ru_stime,
            }
        )
    )


def main() -> None:
    out = Path(sys.argv[1])
    atexit.register(_write, out)
    from scrapy.cmdline import execute

    execute(["scrapy", *sys.argv[2:]])


if __name__ == "__main__":
    main()
