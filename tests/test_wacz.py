"""The WACZ of a real gzip + chunked crawl: valid for the ``wacz`` package's validator and ours,
one page per article with its text, and written without holding the archive in memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from wacz.util import validate_pages_jsonl_file
from warcio.warcwriter import WARCWriter

from newsarchive.archive.cdxj import INDEX_PATH, write_cdxj
from newsarchive.archive.check import wacz_path
from newsarchive.archive.wacz import (
    IDX_MEMBER,
    INDEX_BLOCK_LINES,
    INDEX_MEMBER,
    PAGES_HEADER,
    RESOURCE_NAME,
    write_wacz,
)
from newsarchive.archive.waczvalidator import check_wacz, validate_wacz
from tests.archive_crawl import gzip_chunked_crawl
from tests.memory import traced_peak


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    return gzip_chunked_crawl(tmp_path_factory)


@pytest.fixture(scope="module")
def wacz(crawl):
    return wacz_path(crawl.folder)


def wacz_cli() -> str:
    return str(Path(sys.executable).parent / "wacz")


def test_the_wacz_package_validates_it(wacz):
    out = subprocess.run(
        [wacz_cli(), "validate", "-f", str(wacz)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Validation succeeded" in out.stdout


def test_our_validator_agrees(wacz):
    check = check_wacz(wacz)
    assert check.problems == []
    assert check.pages == 14


def wacz_validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [wacz_cli(), "validate", "-f", str(path)], capture_output=True, text=True, check=False
    )


def small_warc(path: Path) -> Path:
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(
            writer.create_warc_record(
                f"https://example.org/{path.name}", "resource", payload=io.BytesIO(b"x"), length=1
            )
        )
    return path


@pytest.mark.parametrize(
    "names",
    [
        ["rferl-20261203T081500123Z-00000.warc.gz"],  # the default run id's T and Z
        ["Run.warc.gz", "run.warc.gz"],  # two names one lower-casing apart
        ["my crawl (2).warc.gz", "сайт.warc"],  # spaces, brackets, Cyrillic
    ],
)
def test_any_warc_name_gives_a_package_wacz_validate_accepts(tmp_path, names):
    warcs = [small_warc(tmp_path / name) for name in names]
    index = tmp_path / "index.cdxj"
    write_cdxj(warcs, index)
    # A page with neither id nor title: Frictionless would read it as a blank row.
    pages = [{"url": "https://example.org/", "ts": "2026-01-01T00:00:00Z"}]
    out = tmp_path / "run.wacz"
    write_wacz(out, warcs, index, pages, title="t", software="test")
    result = wacz_validate(out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert check_wacz(out).problems == []
    with zipfile.ZipFile(out) as zf:
        assert {f"archive/{name}" for name in names} <= set(zf.namelist())


def _with_package(src: Path, dst: Path, change) -> Path:
    """A copy whose datapackage.json ``change(package)`` edited (digest file dropped)."""

    def edit(name, data):
        if name == "datapackage.json":
            package = json.loads(data)
            change(package)
            return json.dumps(package).encode("utf-8")
        return None if name == "datapackage-digest.json" else data

    return _rewrite(src, dst, edit)


def test_validator_rejects_what_wacz_validate_rejects(wacz, tmp_path):
    def upper(package):
        package["resources"][0]["name"] = package["resources"][0]["name"].upper()

    upper_case = _with_package(wacz, tmp_path / "upper.wacz", upper)
    assert wacz_validate(upper_case).returncode != 0
    assert any("must match" in p for p in validate_wacz(upper_case))

    def twice(package):
        package["resources"][1]["name"] = package["resources"][0]["name"]

    assert any(
        "used twice" in p for p in validate_wacz(_with_package(wacz, tmp_path / "2.wacz", twice))
    )

    def blank_page(name, data):
        if name != "pages/pages.jsonl":
            return data
        lines = data.splitlines(keepends=True)
        return lines[0] + b'{"url": "https://example.org/", "ts": "2026-01-01T00:00:00Z"}\n'

    problems = validate_wacz(_rewrite(wacz, tmp_path / "blank.wacz", blank_page))
    assert any("blank row" in p for p in problems), problems


def test_layout_and_datapackage(crawl, wacz):
    # The crawl's default run id (``20261203T081500123Z``): upper-case, as users get it.
    assert crawl.folder.name.endswith("Z") and "T" in crawl.folder.name
    assert wacz.name == f"rferl-{crawl.folder.name}.wacz"
    with zipfile.ZipFile(wacz) as zf:
        names = zf.namelist()
        package = json.loads(zf.read("datapackage.json"))
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest == {
            "path": "datapackage.json",
            "hash": "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest(),
        }
        infos = {i.filename: i for i in zf.infolist()}
        for warc in crawl.warcs:
            member = f"archive/{warc.name}"
            assert infos[member].compress_type == zipfile.ZIP_STORED
            assert zf.read(member) == warc.read_bytes()
        # The spec's index name, stored (it is gzip already); gunzipped it is the run's CDXJ.
        assert infos[INDEX_MEMBER].filename == "indexes/index.cdx.gz"
        assert infos[INDEX_MEMBER].compress_type == zipfile.ZIP_STORED
        cdxj = (crawl.folder / INDEX_PATH).read_bytes()
        assert gzip.decompress(zf.read(INDEX_MEMBER)) == cdxj
        idx = zf.read(IDX_MEMBER).decode("utf-8").splitlines()
        assert idx[0] == '!meta 0 {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}'
        assert len(idx) == 2  # one block: the crawl has fewer lines than INDEX_BLOCK_LINES
        assert idx[1].startswith(cdxj.decode("utf-8").split(" {", 1)[0] + " {")
    assert names[-2:] == ["datapackage.json", "datapackage-digest.json"]
    assert package["wacz_version"] == "1.1.1"
    assert package["profile"] == "data-package"
    assert package["software"].startswith("newsarchive/")
    paths = {r["path"]: r for r in package["resources"]}
    assert set(paths) == {n for n in names if not n.startswith("datapackage")}
    assert all(RESOURCE_NAME.match(r["name"]) for r in package["resources"]), package
    assert len({r["name"] for r in package["resources"]}) == len(package["resources"])
    for warc in crawl.warcs:
        res = paths[f"archive/{warc.name}"]  # the path keeps the WARC's own name
        assert res["name"] == warc.name.lower()
        assert res["bytes"] == warc.stat().st_size
        assert res["hash"] == "sha256:" + hashlib.sha256(warc.read_bytes()).hexdigest()
    assert package["mainPageUrl"] in {item["url"] for item in crawl.items}


def test_one_page_per_article_with_its_text(crawl, wacz, tmp_path):
    with zipfile.ZipFile(wacz) as zf:
        raw = zf.read("pages/pages.jsonl")
    (tmp_path / "pages.jsonl").write_bytes(raw)
    assert validate_pages_jsonl_file(str(tmp_path / "pages.jsonl"))
    lines = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    assert lines[0] == PAGES_HEADER
    pages = {p["url"]: p for p in lines[1:]}
    assert len(lines) - 1 == len(pages) == len(crawl.items) == 14
    for item in crawl.items:
        page = pages[item["url"]]
        assert page["ts"] == item["fetched_at"]
        assert page["title"] == item["title"]
        assert page["text"] == item["text"]
        assert page["id"] == item["article_id"]


def _rewrite(src: Path, dst: Path, change) -> Path:
    """Copy a ZIP member by member, letting ``change(name, data)`` alter or drop members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
    return dst


def test_validator_catches_damage(wacz, tmp_path):
    def flip(name, data):
        if name.startswith("archive/"):
            return data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
        return data

    problems = validate_wacz(_rewrite(wacz, tmp_path / "flipped.wacz", flip))
    assert any("do not match datapackage.json" in p for p in problems), problems

    no_pages = _rewrite(wacz, tmp_path / "nopages.wacz", lambda n, d: None if "pages" in n else d)
    assert any("pages/pages.jsonl" in p for p in validate_wacz(no_pages))

    deflated = tmp_path / "deflated.wacz"
    with zipfile.ZipFile(wacz) as zin, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            z.writestr(info.filename, zin.read(info.filename))
    assert any("stored uncompressed" in p for p in validate_wacz(deflated))

    def shift_block(name, data):
        if name == IDX_MEMBER:
            return data.replace(b'{"offset": 0,', b'{"offset": 1,')
        return data

    problems = validate_wacz(_rewrite(wacz, tmp_path / "shifted.wacz", shift_block))
    assert any("index.idx line 2" in p for p in problems), problems

    (tmp_path / "not.wacz").write_bytes(b"PK not really")
    assert "not a readable ZIP" in validate_wacz(tmp_path / "not.wacz")[0]


def test_written_streaming_without_holding_the_warc(tmp_path):
    """A 24 MiB WARC goes into the WACZ with a few MiB of Python memory at most."""
    warc = tmp_path / "big.warc.gz"
    with warc.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for n in range(6):
            payload = os.urandom(4 * 1024 * 1024)
            writer.write_record(
                writer.create_warc_record(
                    f"https://example.org/{n}",
                    "resource",
                    payload=io.BytesIO(payload),
                    length=len(payload),
                    warc_content_type="application/octet-stream",
                )
            )
            del payload
    index = tmp_path / "index.cdxj"
    assert write_cdxj([warc], index) == 6
    pages = [{"url": "https://example.org/0", "ts": "2026-01-01T00:00:00Z"}]
    with traced_peak() as held:
        summary = write_wacz(
            tmp_path / "big.wacz", [warc], index, pages, title="big", software="test"
        )
    peak = held.bytes
    assert warc.stat().st_size > 24 * 1024 * 1024
    assert peak < 4 * 1024 * 1024, f"peak {peak:,} bytes while packaging"
    assert summary.pages == 1
    assert validate_wacz(tmp_path / "big.wacz") == []


def test_a_large_index_is_split_into_gzip_blocks_listed_in_the_idx(tmp_path):
    """More lines than one block holds: several gzip members, one ``.idx`` line each."""
    warc = tmp_path / "one.warc.gz"
    with warc.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(
            writer.create_warc_record(
                "https://example.org/", "resource", payload=io.BytesIO(b"x"), length=1
            )
        )
    count = 2 * INDEX_BLOCK_LINES + 5
    lines = [
        f'org,example)/{n:06d} 20260101000000 {{"url": "https://example.org/{n:06d}", '
        f'"filename": "one.warc.gz", "offset": 0, "length": 100}}\n'
        for n in range(count)
    ]
    index = tmp_path / "index.cdxj"
    index.write_text("".join(lines), encoding="utf-8")
    pages = [{"url": "https://example.org/", "ts": "2026-01-01T00:00:00Z"}]
    write_wacz(tmp_path / "big.wacz", [warc], index, pages, title="t", software="test")
    assert validate_wacz(tmp_path / "big.wacz") == []
    with zipfile.ZipFile(tmp_path / "big.wacz") as zf:
        data = zf.read(INDEX_MEMBER)
        idx = zf.read(IDX_MEMBER).decode("utf-8").splitlines()[1:]
    assert gzip.decompress(data).decode("utf-8") == "".join(lines)
    assert [line.split(" ", 1)[0] for line in idx] == [
        lines[n].split(" ", 1)[0] for n in (0, INDEX_BLOCK_LINES, 2 * INDEX_BLOCK_LINES)
    ]
    blocks = [json.loads(line.split(" ", 2)[2]) for line in idx]
    assert blocks[-1]["offset"] + blocks[-1]["length"] == len(data)
    assert all(b["digest"].startswith("sha256:") for b in blocks)
