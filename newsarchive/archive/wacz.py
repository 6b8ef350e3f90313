"""Package a run as a WACZ 1.1.1 file, streaming, and validate one against the spec.

A WACZ is what ReplayWeb.page opens and what archivists exchange: the WARCs (``archive/``), the
CDXJ index (``indexes/index.cdx.gz`` and ``index.idx``, see :func:`_add_index`), the list of
pages (``pages/pages.jsonl``: one per article, with the extracted text so the archive is
searchable) and a ``datapackage.json`` listing every file with its sha256, plus
``datapackage-digest.json`` fixing the manifest itself. Files are copied into the ZIP in chunks
while being hashed, so a multi-gigabyte run never sits in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


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
                    if first_page is None:
                        first_page = page
                    yield page

            count, pages_resource = _add_lines(zf, PAGES_PATH, remember_first())
            resources.append(pages_resource)
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


def _hash_member(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with zf.open(name) as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return "sha256:" + sha.hexdigest(), size


def validate_wacz(path: Path) -> list[str]:
    """Check a WACZ against WACZ 1.1.1; return the problems found (empty when valid).

    Covers what the spec requires: layout, ``datapackage.json`` fields, every file listed with a
    matching hash and size, the manifest digest, stored (not deflated) WARCs, a pages file whose
    first line is the header and whose pages have ``url`` and an RFC 3339 ``ts``, and index lines
    that point at WARCs in the package.
    """
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: not a readable ZIP file ({exc})"]
    with zf:
        names = {info.filename: info for info in zf.infolist() if not info.is_dir()}
        if "datapackage.json" not in names:
            return [f"{path}: datapackage.json is missing"]
        try:
            package = json.loads(zf.read("datapackage.json"))
        except ValueError as exc:
            return [f"{path}: datapackage.json is not JSON ({exc})"]
        if package.get("profile") != "data-package":
            problems.append("datapackage.json: 'profile' must be 'data-package'")
        if package.get("wacz_version") != WACZ_VERSION:
            problems.append(
                f"datapackage.json: wacz_version {package.get('wacz_version')!r}, "
                f"want {WACZ_VERSION!r}"
            )
        for key in ("created", "modified"):
            if key in package and not _RFC3339.match(str(package[key])):
                problems.append(f"datapackage.json: {key!r} is not an RFC 3339 datetime")
        listed: dict[str, dict[str, Any]] = {}
        for res in package.get("resources") or []:
            if not {"path", "hash", "bytes"} <= set(res):
                problems.append(f"datapackage.json: resource {res!r} lacks path, hash or bytes")
                continue
            listed[res["path"]] = res
        for name, info in names.items():
            if name in ("datapackage.json", "datapackage-digest.json"):
                continue
            if name not in listed:
                problems.append(f"{name}: in the ZIP but not listed in datapackage.json")
            if name.startswith("archive/") and info.compress_type != zipfile.ZIP_STORED:
                problems.append(f"{name}: WARCs must be stored uncompressed in the ZIP")
            if name.endswith(".cdx.gz") and info.compress_type != zipfile.ZIP_STORED:
                problems.append(f"{name}: a gzip index must be stored uncompressed in the ZIP")
        for res_path, res in listed.items():
            if res_path not in names:
                problems.append(f"{res_path}: listed in datapackage.json but not in the ZIP")
                continue
            try:
                digest, size = _hash_member(zf, res_path)
            except (OSError, zipfile.BadZipFile, EOFError) as exc:
                problems.append(f"{res_path}: unreadable in the ZIP ({exc})")
                continue
            if digest != res["hash"] or size != res["bytes"]:
                problems.append(
                    f"{res_path}: sha256/size {digest}/{size} do not match datapackage.json "
                    f"({res['hash']}/{res['bytes']})"
                )
        warcs = {n.removeprefix("archive/") for n in names if n.startswith("archive/")}
        if not any(n.endswith((".warc", ".warc.gz")) for n in warcs):
            problems.append("archive/: no .warc or .warc.gz file")
        problems += _check_digest_file(zf, names)
        problems += _check_pages(zf, names)
        problems += _check_indexes(zf, names, warcs)
    return problems


def _check_digest_file(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> list[str]:
    if "datapackage-digest.json" not in names:
        return []  # SHOULD, not MUST
    try:
        digest = json.loads(zf.read("datapackage-digest.json"))
    except ValueError as exc:
        return [f"datapackage-digest.json is not JSON ({exc})"]
    actual = "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest()
    if digest.get("path") != "datapackage.json" or digest.get("hash") != actual:
        return ["datapackage-digest.json does not match datapackage.json"]
    return []


def _check_pages(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> list[str]:
    if PAGES_PATH not in names:
        return [f"{PAGES_PATH} is missing"]
    problems: list[str] = []
    with zf.open(PAGES_PATH) as fh:
        for number, raw in enumerate(fh, 1):
            try:
                obj = json.loads(raw)
            except ValueError:
                problems.append(f"{PAGES_PATH} line {number}: not JSON")
                continue
            if number == 1:
                if obj.get("format") != "json-pages-1.0" or "id" not in obj:
                    problems.append(f"{PAGES_PATH} line 1: not a json-pages-1.0 header")
            elif not obj.get("url") or not _RFC3339.match(str(obj.get("ts", ""))):
                problems.append(f"{PAGES_PATH} line {number}: needs 'url' and RFC 3339 'ts'")
            if len(problems) > 10:
                break
    return problems


def _check_indexes(
    zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], warcs: set[str]
) -> list[str]:
    indexes = [
        n for n in names if n.startswith("indexes/") and n.endswith((".cdx", ".cdxj", ".cdx.gz"))
    ]
    if not indexes:
        return ["indexes/: no CDXJ index (.cdx, .cdxj or .cdx.gz)"]
    problems: list[str] = []
    for name in indexes:
        with zf.open(name) as raw_fh:
            fh = gzip.GzipFile(fileobj=raw_fh) if name.endswith(".gz") else raw_fh
            try:
                for number, raw in enumerate(fh, 1):
                    problems += _check_index_line(name, number, raw, warcs)
                    if len(problems) > 10:
                        return problems
            except (OSError, EOFError) as exc:
                problems.append(f"{name}: not a readable gzip file ({exc})")
    for name in (n for n in names if n.startswith("indexes/") and n.endswith(".idx")):
        problems += _check_idx(zf, name, names)
    return problems


def _check_index_line(name: str, number: int, raw: bytes, warcs: set[str]) -> list[str]:
    parts = raw.decode("utf-8").rstrip("\n").split(" ", 2)
    try:
        filename = json.loads(parts[2])["filename"]
    except (IndexError, ValueError, KeyError):
        return [f"{name} line {number}: not a CDXJ line with a filename"]
    if filename not in warcs:
        return [f"{name} line {number}: {filename} is not in archive/"]
    return []


def _check_idx(zf: zipfile.ZipFile, name: str, names: dict[str, zipfile.ZipInfo]) -> list[str]:
    """Each block an ``.idx`` line names is a gzip member of its data file starting at its key."""
    lines = zf.read(name).decode("utf-8").splitlines()
    if not lines or not lines[0].startswith("!meta"):
        return [f"{name}: no '!meta' header line"]
    try:
        meta = json.loads(lines[0].split(" ", 2)[2])
    except (IndexError, ValueError):
        return [f"{name}: unreadable '!meta' header line"]
    data_name = "indexes/" + str(meta.get("filename", ""))
    if data_name not in names:
        return [f"{name}: its data file {data_name} is not in the ZIP"]
    data = zf.read(data_name)
    expected_offset = 0
    for number, line in enumerate(lines[1:], 2):
        key, _, rest = line.partition(" {")
        try:
            block = json.loads("{" + rest)
            chunk = data[block["offset"] : block["offset"] + block["length"]]
            first = gzip.decompress(chunk).split(b"\n", 1)[0].decode("utf-8")
        except (ValueError, KeyError, TypeError, OSError, EOFError) as exc:
            return [f"{name} line {number}: not a readable block ({exc})"]
        if block["offset"] != expected_offset or not first.startswith(key + " {"):
            return [f"{name} line {number}: block does not start at {block['offset']} with {key}"]
        digest = block.get("digest")
        if digest and digest != "sha256:" + hashlib.sha256(chunk).hexdigest():
            return [f"{name} line {number}: block digest does not match"]
        expected_offset += block["length"]
    if expected_offset != len(data):
        return [f"{name}: blocks cover {expected_offset} of {len(data)} bytes of {data_name}"]
    return []
