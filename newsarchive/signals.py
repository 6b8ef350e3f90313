"""Signals newsarchive components send each other, like ``scrapy.signals``.

Importing this module imports no component, so a sender never depends on its listener.
"""

from __future__ import annotations

#: An article changed, came back, or was found removed. Argument ``line``: the
#: ``changes.jsonl`` line (:mod:`newsarchive.extensions.changelog`).
article_changed = object()
