"""Peak Python memory of a block, measured with tracemalloc, also when tracing is already on."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Peak:
    bytes: int = 0


@contextmanager
def traced_peak() -> Iterator[Peak]:
    """Bytes allocated at the block's peak, above what was allocated when it started.

    Under ``PYTHONTRACEMALLOC`` (or ``-X tracemalloc``) everything earlier is traced too, so the
    peak is taken relative to the memory held on entry, and tracing is left on afterwards.
    """
    already = tracemalloc.is_tracing()
    if already:
        tracemalloc.reset_peak()
    else:
        tracemalloc.start()
    start, _ = tracemalloc.get_traced_memory()
    peak = Peak()
    try:
        yield peak
        _, top = tracemalloc.get_traced_memory()
        peak.bytes = top - start
    finally:
        if not already:
            tracemalloc.stop()
