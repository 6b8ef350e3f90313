"""Map a request (host, path, query) onto files under ROOT and build the reply.

Pure file-system logic with no sockets, so every mapping rule lives in one testable place.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

SIDECAR_SUFFIX = ".headers.json"
INDEX = "index.html"

CONTENT_TYPES = {
    "": "text/html; charset=utf-8",  # extension-less news URLs are pages
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/x-gzip",
    ".json": "application/json",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
_TEXT_APPLICATION = {"application/xml", "application/json", "application/javascript"}
# Framing is the server's job: a sidecar may not set these.
_FORBIDDEN_SIDECAR_HEADERS = {"content-length", "transfer-encoding", "connection"}
# Headers a 304 repeats from the 200 it stands for (RFC 9110 section 15.4.5).
_NOT_MODIFIED_KEEP = {"etag", "last-modified", "vary", "cache-control", "expires", "set-cookie"}

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*", re.ASCII)
_HOSTPORT_RE = re.compile(r"([^:]+)(?::[0-9]{1,5})?", re.ASCII)


@dataclass
class Reply:
    """An HTTP response before framing; the handler adds Content-Length or chunking."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunked: bool = False


@dataclass
class SiteOptions:
    """Server-wide behaviour shared by every request."""

    root: Path
    gzip: bool = False
    chunked: bool = False
    cookies: list[str] = field(default_factory=list)
    #: Seconds to wait before answering each request whose path matches ``delay_paths``
    #: (an fnmatch glob), so tests can kill a crawl at a chosen moment.
    delay: float = 0.0
    delay_paths: str = "*"


class SidecarError(ValueError):
    """A malformed ``.headers.json`` file: reported as 500 so fixture mistakes are loud."""


def normalize_host(hostport: str | None) -> str | None:
    """Return the lower-case DNS name of ``host[:port]``, or None if it is not a plain name."""
    if not hostport:
        return None
    match = _HOSTPORT_RE.fullmatch(hostport.strip().lower())
    if not match:
        return None
    host = match.group(1).removesuffix(".")
    return host if _HOST_RE.fullmatch(host) else None


def query_filename(name: str, query: str) -> str:
    """File name that holds the variant of ``name`` for one raw query string."""
    return f"{name}%3F{quote(query, safe='')}"


def fixture_path(root: str | Path, url: str) -> Path:
    """Where a fixture for ``url`` should be saved so the double serves it (first candidate)."""
    parts = urlsplit(url)
    host = normalize_host(parts.netloc)
    segments = _segments(parts.path or "/")
    if host is None or segments is None:
        raise ValueError(f"cannot map {url!r} to a fixture path")
    rel = _base_name(parts.path or "/", segments)
    if parts.query:
        rel = [*rel[:-1], query_filename(rel[-1], parts.query)]
    return Path(root, host, *rel)


def _segments(path: str) -> list[str] | None:
    """Decoded path segments, or None for anything that could escape the site folder."""
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\x00" in decoded or "\\" in decoded:
        return None
    segments = [s for s in decoded.split("/") if s not in ("", ".")]
    return None if ".." in segments else segments


def _base_name(path: str, segments: list[str]) -> list[str]:
    return [*segments, INDEX] if not segments or path.endswith("/") else segments


def content_type(name: str) -> str:
    """Content-Type for a file name, by extension; unknown binary types fall back to octets."""
    suffix = Path(name).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def is_text(ctype: str) -> bool:
    """Whether gzip Content-Encoding is worth applying (what real CDNs compress)."""
    mime = ctype.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_APPLICATION or mime.endswith(("+xml", "+json"))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Parse Accept-Encoding just enough to honour ``gzip``/``*`` with a non-zero q."""
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                if float(q[2:]) <= 0:
                    continue
            except ValueError:
                continue
        return True
    return False


def error_reply(status: int, detail: str = "", cookies: list[str] | None = None) -> Reply:
    """A small HTML error page, like a real origin's."""
    phrase = HTTPStatus(status).phrase
    body = (
        f"<!DOCTYPE html><html><head><title>{status} {phrase}</title></head>"
        f"<body><h1>{status} {phrase}</h1><p>{escape(detail)}</p></body></html>\n"
    ).encode()
    headers = [("Content-Type", "text/html; charset=utf-8")]
    headers += [("Set-Cookie", c) for c in cookies or []]
    return Reply(status, headers, body)


def load_sidecar(path: Path) -> dict[str, Any]:
    """Read and validate a ``.headers.json`` override (small, documented format)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SidecarError(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"status", "headers", "gzip", "chunked"}:
        raise SidecarError(f"{path.name}: expected keys status/headers/gzip/chunked")
    status = data.get("status", 200)
    if not isinstance(status, int) or not 200 <= status <= 599:
        raise SidecarError(f"{path.name}: status must be an integer 200-599")
    headers = data.get("headers", {})
    if not isinstance(headers, dict):
        raise SidecarError(f"{path.name}: headers must be an object")
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        if name.lower() in _FORBIDDEN_SIDECAR_HEADERS or not all(
            isinstance(v, str) for v in values
        ):
            raise SidecarError(f"{path.name}: bad header {name!r}")
    for key in ("gzip", "chunked"):
        if not isinstance(data.get(key, False), bool):
            raise SidecarError(f"{path.name}: {key} must be true/false")
    return data


def _find(site: Path, path: str, segments: list[str], query: str) -> tuple[Path, str] | None:
    """First candidate file (or sidecar-only entry): returns (path, name that sets the type)."""
    base = _base_name(path, segments)
    folders = [(base[:-1], base[-1])]
    if base is segments:  # maybe a directory requested without its trailing slash
        folders.append((segments, INDEX))
    for folder, name in folders:
        names = [query_filename(name, query), name] if query else [name]
        for candidate in (site.joinpath(*folder, n) for n in names):
            if candidate.is_file() or Path(f"{candidate}{SIDECAR_SUFFIX}").is_file():
                return candidate, name
    return None


def _inside(site: Path, candidate: Path) -> bool:
    """Resolve symlinks and make sure the target is still below the site folder."""
    return candidate.resolve().is_relative_to(site)


def build_reply(options: SiteOptions, host: str, path: str, query: str, headers: Message) -> Reply:
    """The full reply for GET/HEAD of ``host`` + ``path?query`` (framing decided by caller)."""
    cookies = options.cookies
    segments = _segments(path)
    if segments is None or not path.startswith("/"):
        return error_reply(400, "bad path", cookies)
    site = (options.root / host).resolve()
    if not site.is_dir():  # a symlinked host folder is fine: fixtures may alias hosts
        return error_reply(404, f"unknown host {host}", cookies)
    if segments and segments[-1].endswith(SIDECAR_SUFFIX):
        return error_reply(404, "not found", cookies)
    found = _find(site, path, segments, query)
    synthesized_gz = False
    if found is None:
        base = site.joinpath(*_base_name(path, segments))
        plain_name = base.name.removesuffix(".gz")
        plain = base.with_name(plain_name) if plain_name not in ("", base.name) else None
        if plain is not None and plain.is_file():
            found, synthesized_gz = (plain, base.name), True
        else:
            return error_reply(404, "not found", cookies)
    file, name = found
    if not _inside(site, file):
        return error_reply(404, "not found", cookies)
    sidecar: dict[str, Any] = {}
    sidecar_path = Path(f"{file}{SIDECAR_SUFFIX}")
    if not synthesized_gz and sidecar_path.is_file() and _inside(site, sidecar_path):
        try:
            sidecar = load_sidecar(sidecar_path)
        except SidecarError as exc:
            return error_reply(500, str(exc), cookies)
    exists = file.is_file()
    body = file.read_bytes() if exists else b""
    overrides: dict[str, str | list[str]] = sidecar.get("headers", {})
    ctype = next(
        (v for k, v in overrides.items() if k.lower() == "content-type" and isinstance(v, str)),
        content_type(name),
    )
    out: list[tuple[str, str]] = [("Content-Type", ctype)]
    mtime = file.stat().st_mtime if exists else None
    if mtime is not None:
        out.append(("Last-Modified", formatdate(mtime, usegmt=True)))
    if synthesized_gz:
        body = gzip.compress(body, mtime=0)
    use_gzip = sidecar.get("gzip", options.gzip and is_text(ctype)) and bool(body)
    if use_gzip:
        out.append(("Vary", "Accept-Encoding"))
        if accepts_gzip(headers.get("Accept-Encoding")):
            body = gzip.compress(body, mtime=0)
            out.append(("Content-Encoding", "gzip"))
    if exists:
        out.append(("ETag", f'"{hashlib.sha256(body).hexdigest()[:24]}"'))
    out += [("Set-Cookie", c) for c in cookies]
    lowered = {k.lower() for k in overrides}
    out = [(k, v) for k, v in out if k.lower() not in lowered]
    for key, value in overrides.items():
        out += [(key, v) for v in (value if isinstance(value, list) else [value])]
    status = sidecar.get("status", 200)
    reply = Reply(status, out, body, sidecar.get("chunked", options.chunked))
    if status == 200 and _not_modified(reply.headers, headers, mtime):
        kept = [(k, v) for k, v in reply.headers if k.lower() in _NOT_MODIFIED_KEEP]
        return Reply(304, kept)
    return reply


def _not_modified(
    reply_headers: list[tuple[str, str]], request: Message, mtime: float | None
) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; If-Modified-Since only without it."""
    etag = next((v for k, v in reply_headers if k.lower() == "etag"), None)
    if_none_match = request.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return etag is not None and ("*" in tags or etag.removeprefix("W/") in tags)
    since = request.get("If-Modified-Since")
    if since is None or mtime is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    return when.tzinfo is not None and int(mtime) <= when.timestamp()
