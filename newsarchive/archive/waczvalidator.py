"""Check any WACZ against the WACZ 1.1.1 spec: the run's self-check runs it on the package
:func:`~newsarchive.archive.wacz.write_wacz` made, tests on hand-damaged copies.

A reader of the ZIP, apart from the writer so that it checks what the spec asks and not what
the writer meant to do; it takes nothing from it but the spec's names and the read size.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.archive.wacz import CHUNK, PAGES_PATH, RESOURCE_NAME, WACZ_VERSION

_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _hash_member(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with zf.open(name) as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return "sha256:" + sha.hexdigest(), size


@dataclass
class WaczCheck:
    """What :func:`check_wacz` found: the problems (none: valid) and the pages listed."""

    problems: list[str] = field(default_factory=list)
    pages: int = 0


def validate_wacz(path: Path) -> list[str]:
    """Check a WACZ against WACZ 1.1.1; return the problems found (empty when valid)."""
    return check_wacz(path).problems


def check_wacz(path: Path) -> WaczCheck:
    """Check a WACZ against WACZ 1.1.1 and what py-wacz's ``wacz validate`` enforces.

    Covers what the spec requires: layout, ``datapackage.json`` fields, every file listed with a
    matching hash and size, the manifest digest, stored (not deflated) WARCs, a pages file whose
    first line is the header and whose pages have ``url`` and an RFC 3339 ``ts``, and index lines
    that point at WARCs in the package. ``wacz validate`` also runs the package through
    Frictionless, which wants each resource ``name`` lower-case (``^[-a-z0-9._/]+$``) and unique
    and reads ``pages.jsonl`` as a table whose columns are the header's keys: a page with none of
    them set is a "blank row" there; both are checked here too.
    """
    result = WaczCheck()
    problems = result.problems
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        problems.append(f"{path}: not a readable ZIP file ({exc})")
        return result
    with zf:
        names = {info.filename: info for info in zf.infolist() if not info.is_dir()}
        if "datapackage.json" not in names:
            problems.append(f"{path}: datapackage.json is missing")
            return result
        try:
            package = json.loads(zf.read("datapackage.json"))
        except ValueError as exc:
            problems.append(f"{path}: datapackage.json is not JSON ({exc})")
            return result
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
        resource_names: set[str] = set()
        for res in package.get("resources") or []:
            if not {"path", "hash", "bytes"} <= set(res):
                problems.append(f"datapackage.json: resource {res!r} lacks path, hash or bytes")
                continue
            listed[res["path"]] = res
            problems += _check_resource_name(res, resource_names)
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
        page_problems, result.pages = _check_pages(zf, names)
        problems += page_problems
        problems += _check_indexes(zf, names, warcs)
    return result


def _check_resource_name(res: dict[str, Any], seen: set[str]) -> list[str]:
    name = res.get("name")
    if name is None:
        return []  # optional in the spec
    if not isinstance(name, str) or not RESOURCE_NAME.match(name):
        return [
            f"datapackage.json: resource name {name!r} ({res['path']}) must match "
            f"{RESOURCE_NAME.pattern} (Frictionless, and so 'wacz validate', rejects it)"
        ]
    if name in seen:
        return [f"datapackage.json: resource name {name!r} is used twice"]
    seen.add(name)
    return []


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


def _check_pages(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> tuple[list[str], int]:
    """Problems of the pages file, and how many pages it lists (lines after the header)."""
    if PAGES_PATH not in names:
        return [f"{PAGES_PATH} is missing"], 0
    problems: list[str] = []
    pages = 0
    columns: list[str] = []
    with zf.open(PAGES_PATH) as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                problems.append(f"{PAGES_PATH} line {number}: empty line")
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                problems.append(f"{PAGES_PATH} line {number}: not JSON")
                continue
            if number == 1:
                if obj.get("format") != "json-pages-1.0" or "id" not in obj:
                    problems.append(f"{PAGES_PATH} line 1: not a json-pages-1.0 header")
                columns = list(obj)
                continue
            pages += 1
            if len(problems) > 10:
                continue  # keep counting, stop listing
            if not obj.get("url") or not _RFC3339.match(str(obj.get("ts", ""))):
                problems.append(f"{PAGES_PATH} line {number}: needs 'url' and RFC 3339 'ts'")
            elif columns and not any(obj.get(key) not in (None, "") for key in columns):
                problems.append(
                    f"{PAGES_PATH} line {number}: sets none of the header's keys "
                    f"({', '.join(columns)}): a blank row to Frictionless ('wacz validate')"
                )
    return problems, pages


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
