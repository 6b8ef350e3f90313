"""gzip for WARC records: one member per record, at a level we choose, through zlib-ng.

warcio's ``WARCWriter(gzip=True)`` compresses every record with the standard library's zlib at
level 9, which on news HTML costs about 7 ms a page: more than the rest of the crawl's own work.
zlib-ng (a maintained zlib fork; the ``zlib-ng`` package's ``zlib_ng`` module has zlib's API)
writes the same gzip format, members any reader inflates. On the benchmark's news pages, per
page: zlib level 9 6.9 ms, zlib level 6 4.3 ms, zlib-ng level 6 2.1 ms, level 5 1.7 ms (the
default; files 2% larger than zlib's level 9, 0.5% larger than zlib-ng's level 6), level 4
1.6 ms (+4.5%), level 1 0.6 ms (+45%). zlib-ng also inflates faster for the close-of-run check.
"""

from __future__ import annotations

from typing import BinaryIO

from warcio.warcwriter import WARCWriter
from zlib_ng import zlib_ng

#: zlib's window bits plus 16: a gzip header and trailer around the deflate stream.
GZIP_WBITS = 16 + zlib_ng.MAX_WBITS
#: zlib-ng's own error, raised by a damaged member; a subclass of nothing in :mod:`zlib`.
error = zlib_ng.error


def check_level(level: int) -> int:
    """``level`` if zlib accepts it for writing, else a ValueError naming the setting."""
    if not 1 <= level <= 9:
        raise ValueError(
            f"NEWSARCHIVE_WARC_GZIP_LEVEL must be 1 (fastest) to 9 (smallest), not {level}"
        )
    return level


def inflater():
    """A decompressor for one gzip member (``.eof``/``.unused_data`` as zlib's)."""
    return zlib_ng.decompressobj(GZIP_WBITS)


class _GzipMember:
    """What warcio writes one record into: compressed as one gzip member, closed on flush."""

    def __init__(self, out: BinaryIO, level: int) -> None:
        self.out = out
        self.compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, GZIP_WBITS)

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


class GzipWARCWriter(WARCWriter):
    """warcio's ``WARCWriter`` writing each record as its own gzip member at ``level``.

    warcio's own gzip step is switched off (it is fixed at level 9 and stdlib zlib): records are
    handed to warcio already wrapped, so a record's bytes, digests and headers are warcio's.
    """

    def __init__(self, filebuf: BinaryIO, level: int = 5, **kwargs) -> None:
        super().__init__(filebuf, gzip=False, **kwargs)
        self.level = check_level(level)

    def write_record(self, record, params=None) -> None:
        self._write_warc_record(_GzipMember(self.out, self.level), record)
