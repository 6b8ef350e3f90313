"""Package a run as a WACZ 1.1.1 file, streaming (checking one against the spec is
:mod:`newsarchive.archive.waczvalidator`'s job).

A WACZ is what ReplayWeb.page opens and what archivists exchange: the WARCs (``archive/``), the
CDXJ index (``indexes/index.cdx.gz`` and ``index.idx``, see :func:`_add_index`), the list of
pages (``pages/pages.jsonl``: one per article, with the extracted text so the archive is
searchable) and a ``datapackage.json`` listing every file with its sha256, plus
``datapackage-digest.json`` fixing the manifest itself. Files are copied into the ZIP in chunks
while being hashed, so a multi-gigabyte run never sits in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cdxj_indexer.main import CompressedWriter

WACZ_VERSION = "1.1.1"
#: The index, as the spec's example names it and as pywb (``wb-manager add --unpack-wacz``
#: reads ``indexes/*.cdx[.gz]``) and py-wacz write it: the CDXJ lines, gzipped in blocks.
INDEX_MEMBER = "indexes/index.cdx.gz"
#: Where each block of ``index.cdx.gz`` starts (ReplayWeb.page reads ``.cdx``/``.cdxj``
#: whole, or ``.idx`` + gzip blocks, never a lone ``.cdx.gz``).
IDX_MEMBER = "indexes/index.idx"
#: CDXJ lines per gzip block of the index (py-wacz's choice).
INDEX_BLOCK_LINES = 1024
PAGES_PATH = "pages/pages.jsonl"
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
CHUNK = 1024 * 1024
#: What a Data Package resource ``name`` may be (Frictionless rejects the package otherwise, and
#: with it py-wacz's ``wacz validate``): paths keep the file's own name, names are normalised.
RESOURCE_NAME = re.compile(r"^[-a-z0-9._/]+$")
_NOT_NAME = re.compile(r"[^-a-z0-9._/]+")


@dataclass(frozen=True)
class WaczResource:
    """One file of the package, as listed in ``datapackage.json``."""

    name: str
    path: str
    hash: str
    bytes: int


@dataclass(frozen=True)
class WaczSummary:
    path: Path
    pages: int
    resources: tuple[WaczResource, ...]


def resource_name(path: str, taken: set[str]) -> str:
    """A Data Package ``name`` for the member at ``path``: its file name lower-cased, any other
    character run replaced by ``-``, made unique among ``taken`` (which it joins)."""
    base = _NOT_NAME.sub("-", Path(path).name.lower()).strip("-") or "resource"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def _named(resources: Iterable[WaczResource]) -> list[WaczResource]:
    taken: set[str] = set()
    return [replace(r, name=resource_name(r.path, taken)) for r in resources]


def pages_from_items(items_jsonl: Path) -> Iterator[dict[str, Any]]:
    """One WACZ page per article line of ``items.jsonl`` (url, ts, title, extracted text)."""
    if not items_jsonl.exists():
        return
    with items_jsonl.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            item = json.loads(line)
            page: dict[str, Any] = {"url": item["url"], "ts": item["fetched_at"]}
            warc = item.get("warc") or {}
            page_id = item.get("article_id") or warc.get("record_id")
            if page_id:
                page["id"] = str(page_id)
            if item.get("title"):
                page["title"] = item["title"]
            if item.get("text"):
                page["text"] = item["text"]
            yield page


class _HashingWriter:
    """Counts and sha256-hashes what goes through to a ZIP member."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.sha256.update(data)
        self.bytes += len(data)


def _member(zf: zipfile.ZipFile, path: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def _add_file(zf: zipfile.ZipFile, source: Path, path: str, compress: int) -> WaczResource:
    with (
        source.open("rb") as src,
        zf.open(_member(zf, path, compress), "w", force_zip64=True) as dst,
    ):
        out = _HashingWriter(dst)
        while chunk := src.read(CHUNK):
            out.write(chunk)
    return WaczResource(Path(path).name, path, "sha256:" + out.sha256.hexdigest(), out.bytes)


def _add_index(zf: zipfile.ZipFile, index: Path) -> list[WaczResource]:
    """``index.cdx.gz`` (stored: already gzip) and its ``index.idx``, from a sorted CDXJ file.

    The CDXJ lines are gzipped in blocks of :data:`INDEX_BLOCK_LINES` (cdxj-indexer's
    ``CompressedWriter``, the "cdxj-gzip-1.0" layout py-wacz writes): gunzipping the whole file
    gives the CDXJ back, and ``index.idx`` lets a replay tool fetch only the block it needs.
    """
    idx = io.StringIO()  # one short line per block
    with (
        index.open("r", encoding="utf-8") as src,
        zf.open(_member(zf, INDEX_MEMBER, zipfile.ZIP_STORED), "w", force_zip64=True) as dst,
    ):
        out = _HashingWriter(dst)
        blocks = CompressedWriter(
            idx,
            out,
            num_lines=INDEX_BLOCK_LINES,
            data_out_name=Path(INDEX_MEMBER).name,
            digest_records=True,
        )
        for line in src:
            if line.strip():
                blocks.write(line if line.endswith("\n") else line + "\n")
        if blocks.block:  # an empty last block would be an empty gzip member and idx line
            blocks.flush()
    data = WaczResource(
        Path(INDEX_MEMBER).name, INDEX_MEMBER, "sha256:" + out.sha256.hexdigest(), out.bytes
    )
    body = idx.getvalue().encode("utf-8")
    zf.writestr(_member(zf, IDX_MEMBER, zipfile.ZIP_DEFLATED), body)
    listing = WaczResource(
        Path(IDX_MEMBER).name, IDX_MEMBER, "sha256:" + hashlib.sha256(body).hexdigest(), len(body)
    )
    return [data, listing]


def _add_lines(
    zf: zipfile.ZipFile, path: str, lines: Iterable[dict[str, Any]]
) -> tuple[int, WaczResource]:
    count = 0
    with zf.open(_member(zf, path, zipfile.ZIP_DEFLATED), "w", force_zip64=True) as dst:
        out = _HashingWriter(dst)
        for obj in lines:
            out.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")
            count += 1
    resource = WaczResource(Path(path).name, path, "sha256:" + out.sha256.hexdigest(), out.bytes)
    return count, resource


def _add_json(zf: zipfile.ZipFile, path: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    zf.writestr(_member(zf, path, zipfile.ZIP_DEFLATED), body)
    return body


def rfc3339_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_wacz(
    output: Path,
    warcs: Iterable[Path],
    index: Path,
    pages: Iterable[dict[str, Any]],
    *,
    title: str,
    software: str,
    description: str = "",
) -> WaczSummary:
    """Write a WACZ at ``output`` (atomically) from WARC files, a sorted CDXJ index and pages.

    WARCs and ``index.cdx.gz`` are stored uncompressed in the ZIP (they are gzip already, and
    replay tools read them by offset); the JSON files and ``index.idx`` are deflated.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    resources: list[WaczResource] = []
    pages_list = iter(pages)
    first_page: dict[str, Any] | None = None
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
            for warc in warcs:
                resources.append(_add_file(zf, warc, f"archive/{warc.name}", zipfile.ZIP_STORED))
            resources.extend(_add_index(zf, index))

            def remember_first() -> Iterator[dict[str, Any]]:
                nonlocal first_page
                yield PAGES_HEADER
                for page in pages_list:
                    if not page.get("id") and not page.get("title"):
                        # Frictionless (``wacz validate``) reads pages as a table with the
                        # header's columns: a page with neither id nor title is a blank row.
                        page = {**page, "id": page["url"]}
                    if first_page is None:
                        first_page = page
                    yield page

            count, pages_resource = _add_lines(zf, PAGES_PATH, remember_first())
            resources.append(pages_resource)
            resources = _named(resources)
            created = rfc3339_now()
            package: dict[str, Any] = {
                "profile": "data-package",
                "wacz_version": WACZ_VERSION,
                "title": title,
                "created": created,
                "modified": created,
                "software": software,
                "resources": [r.__dict__ for r in resources],
            }
            if description:
                package["description"] = description
            if first_page is not None:
                package["mainPageUrl"] = first_page["url"]
                package["mainPageDate"] = first_page["ts"]
            body = _add_json(zf, "datapackage.json", package)
            _add_json(
                zf,
                "datapackage-digest.json",
                {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(body).hexdigest()},
            )
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return WaczSummary(path=output, pages=count - 1, resources=tuple(resources))
