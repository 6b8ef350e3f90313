"""A local-file feed storage that hands every line to the OS as soon as it is exported.

Scrapy's ``FileFeedStorage`` writes through a buffered file: a run killed by SIGKILL loses the
last few kilobytes of items while the state store already counts them as emitted. Unbuffered,
each ``export_item`` is one ``write(2)`` of one whole line, so the file holds every item the
crawl reported (a kill can at worst tear the line being written; repair cuts it).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from scrapy import Spider
from scrapy.extensions.feedexport import FileFeedStorage


class DurableFileFeedStorage(FileFeedStorage):
    """``FileFeedStorage`` without a user-space buffer (registered for ``file:`` and paths)."""

    def open(self, spider: Spider) -> IO[bytes]:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open(self.write_mode, buffering=0)
