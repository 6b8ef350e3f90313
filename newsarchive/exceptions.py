"""The exceptions newsarchive's components raise and others recognise, in one place.

A component that only needs to recognise another's exception (the error log and the accounting
telling an unchanged article or a replay miss from a failure) imports it from here, not from the
component that raises it, so the shell's subpackages do not import each other in a circle.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem, IgnoreRequest


class UnchangedArticle(DropItem):
    """The article says what its stored version says: no item (raised by the dedupe pipeline)."""


class ReplayMiss(IgnoreRequest):
    """The request is not in the archive being replayed (raised by the replay middleware)."""
