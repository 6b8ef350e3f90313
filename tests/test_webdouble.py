"""Tests for the web double (newsarchive.webdouble): a loopback proxy serving a folder."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.utils import formatdate
from pathlib import Path

import pytest

from newsarchive.webdouble import WebDouble, fixture_path, query_filename
from tests.webdouble_fixtures import proxy_env  # webdouble_factory comes via conftest.py

REPO = Path(__file__).resolve().parents[1]
HOST = "www.example-news.test"
ARTICLE = (
    "<html><body><h1>Article 1</h1>" + "<p>Lorem ipsum dolor sit amet.</p>" * 40 + "</body></html>"
)
SITEMAP = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    f"<url><loc>https://{HOST}/a/1.html</loc></url></urlset>\n"
)
RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
MTIME = 1_700_000_000  # fixed mtime so conditional-request dates are exact

Make = Callable[..., WebDouble]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A tiny news site plus a secret just outside the site folder (traversal target)."""
    root = tmp_path / "site"
    host = root / HOST
    (host / "a").mkdir(parents=True)
    (host / "api").mkdir()
    files = {
        "index.html": "<html>home</html>",
        query_filename("index.html", "p=2"): "<html>page 2</html>",
        "a/1.html": ARTICLE,
        "a/index.html": "<html>section a</html>",
        "sitemap_8_news.xml": SITEMAP,
        "api/zrqiteuuir": RSS,
        "logo.png": "\x89PNG fake image bytes",
        "moved.html.headers.json": json.dumps(
            {"status": 301, "headers": {"Location": f"https://{HOST}/a/1.html"}}
        ),
        "api/zrqiteuuir.headers.json": json.dumps(
            {"headers": {"Content-Type": "application/rss+xml; charset=utf-8"}}
        ),
        "chunky.html": ARTICLE,
        "chunky.html.headers.json": json.dumps({"chunked": True, "gzip": True}),
        "broken.html": "x",
        "broken.html.headers.json": "{not json",
    }
    for rel, text in files.items():
        path = host / rel
        path.write_text(text, encoding="utf-8")
        os.utime(path, (MTIME, MTIME))
    (tmp_path / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    (host / "link.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture
def double(site: Path, webdouble_factory: Make) -> WebDouble:
    return webdouble_factory(site)


def proxy_get(
    double: WebDouble, url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[http.client.HTTPResponse, bytes]:
    """One plain-proxy (absolute-form) request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=10)
    try:
        conn.request(method, url, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def tunnel(double: WebDouble, host: str = HOST) -> Iterator[http.client.HTTPSConnection]:
    """An HTTPS connection through a CONNECT tunnel, as clients with https_proxy make."""
    conn = http.client.HTTPSConnection(
        "127.0.0.1", double.port, timeout=10, context=unverified_context()
    )
    conn.set_tunnel(host, 443)
    try:
        yield conn
    finally:
        conn.close()


def tunnel_get(
    double: WebDouble, path: str, headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    with tunnel(double) as conn:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()


def raw_exchange(double: WebDouble, request: bytes) -> bytes:
    """Send raw bytes, read until the server closes (requests use Connection: close)."""
    with socket.create_connection(("127.0.0.1", double.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_plain_proxy_get(double: WebDouble) -> None:
    response, body = proxy_get(double, f"http://{HOST}/a/1.html")
    assert response.status == 200
    assert body == ARTICLE.encode()
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert response.getheader("Content-Length") == str(len(body))
    assert response.getheader("Last-Modified") == formatdate(MTIME, usegmt=True)
    assert response.getheader("ETag").startswith('"')
    assert response.getheader("Date") and response.getheader("Server")
    [entry] = double.requests()
    assert (entry["method"], entry["scheme"], entry["host"], entry["path"]) == (
        "GET",
        "http",
        HOST,
        "/a/1.html",
    )
    assert entry["tunnel"] is False


def test_connect_tls_get(double: WebDouble) -> None:
    response, body = tunnel_get(double, "/a/1.html")
    assert response.status == 200
    assert body == ARTICLE.encode()
    connect, get = double.requests()
    assert (connect["method"], connect["path"], connect["tunnel"]) == (
        "CONNECT",
        f"{HOST}:443",
        False,
    )
    assert (get["scheme"], get["host"], get["path"], get["tunnel"]) == (
        "https",
        HOST,
        "/a/1.html",
        True,
    )


def test_keep_alive_two_requests_on_one_tunnel(double: WebDouble) -> None:
    with tunnel(double) as conn:
        conn.request("GET", "/a/1.html")
        first = conn.getresponse()
        assert first.read() == ARTICLE.encode()
        sock = conn.sock
        conn.request("GET", "/")
        second = conn.getresponse()
        assert second.read() == b"<html>home</html>"
        assert conn.sock is sock  # no reconnect
    methods = [(r["method"], r["path"]) for r in double.requests()]
    assert methods == [("CONNECT", f"{HOST}:443"), ("GET", "/a/1.html"), ("GET", "/")]


def test_gzip_on_request(site: Path, webdouble_factory: Make) -> None:
    double = webdouble_factory(site, gzip=True)
    response, body = tunnel_get(double, "/a/1.html", {"Accept-Encoding": "gzip, deflate"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(body) == ARTICLE.encode()
    zipped_etag = response.getheader("ETag")

    response, body = tunnel_get(double, "/a/1.html")  # http.client sends identity
    assert response.getheader("Content-Encoding") is None
    assert body == ARTICLE.encode()
    assert response.getheader("ETag") != zipped_etag

    response, body = tunnel_get(double, "/logo.png", {"Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") is None  # binary types stay as they are
    assert body == "\x89PNG fake image bytes".encode()


def test_no_gzip_unless_enabled(double: WebDouble) -> None:
    response, body = tunnel_get(double, "/a/1.html", {"Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") is None
    assert body == ARTICLE.encode()


def _dechunk(body: bytes) -> list[bytes]:
    chunks = []
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert body == b"\r\n"
            return chunks
        chunks.append(body[:size])
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]


def test_chunked_framing(site: Path, webdouble_factory: Make) -> None:
    double = webdouble_factory(site, chunked=True)
    request = f"GET http://{HOST}/a/1.html HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"
    raw = raw_exchange(double, request.encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    head_lines = head.lower().split(b"\r\n")
    assert head_lines[0] == b"http/1.1 200 ok"
    assert b"transfer-encoding: chunked" in head_lines
    assert not any(line.startswith(b"content-length") for line in head_lines)
    chunks = _dechunk(body)
    assert len(chunks) >= 2
    assert b"".join(chunks) == ARTICLE.encode()

    response, decoded = tunnel_get(double, "/a/1.html")
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert decoded == ARTICLE.encode()


def test_http10_client_gets_content_length_even_when_chunked(
    site: Path, webdouble_factory: Make
) -> None:
    double = webdouble_factory(site, chunked=True)
    raw = raw_exchange(double, f"GET http://{HOST}/ HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Content-Length: 17" in head and b"chunked" not in head
    assert body == b"<html>home</html>"


def test_two_set_cookie_lines(double: WebDouble) -> None:
    response, _ = tunnel_get(double, "/a/1.html")
    cookies = response.msg.get_all("Set-Cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("pangea_session=") and "HttpOnly" in cookies[0]
    assert cookies[1].startswith("visitor=")
    response, _ = proxy_get(double, f"http://{HOST}/missing.html")
    assert len(response.msg.get_all("Set-Cookie")) == 2


def test_etag_and_if_modified_since_give_304(double: WebDouble) -> None:
    response, _ = tunnel_get(double, "/a/1.html")
    etag = response.getheader("ETag")
    response, body = tunnel_get(double, "/a/1.html", {"If-None-Match": etag})
    assert response.status == 304 and body == b""
    assert response.getheader("ETag") == etag
    assert response.getheader("Content-Length") is None
    response, body = tunnel_get(double, "/a/1.html", {"If-None-Match": '"other"'})
    assert response.status == 200 and body == ARTICLE.encode()

    later = formatdate(MTIME + 60, usegmt=True)
    response, body = tunnel_get(double, "/a/1.html", {"If-Modified-Since": later})
    assert response.status == 304 and body == b""
    earlier = formatdate(MTIME - 60, usegmt=True)
    response, body = tunnel_get(double, "/a/1.html", {"If-Modified-Since": earlier})
    assert response.status == 200 and body == ARTICLE.encode()


def test_gz_served_on_the_fly(double: WebDouble) -> None:
    response, body = tunnel_get(double, "/sitemap_8_news.xml.gz")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/x-gzip"
    assert response.getheader("Content-Encoding") is None
    assert gzip.decompress(body) == SITEMAP.encode()
    response, body = tunnel_get(double, "/sitemap_8_news.xml")
    assert response.getheader("Content-Type") == "application/xml"
    assert body == SITEMAP.encode()


def test_missing_file_and_unknown_host_are_404(double: WebDouble) -> None:
    for path in ("/a/2.html", "/x", "/.gz", "/a/", "/nothing.gz", "/sitemap_8_news.xml.gz.gz"):
        response, body = tunnel_get(double, path)
        assert response.status == (200 if path == "/a/" else 404), path
    response, body = tunnel_get(double, "/a/2.html")
    assert b"<h1>404 Not Found</h1>" in body
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    response, _ = proxy_get(double, "http://www.elsewhere.test/")
    assert response.status == 404
    with tunnel(double, "unknown.example.org") as conn:
        conn.request("GET", "/")
        assert conn.getresponse().status == 404


def test_symlinked_host_folder_is_an_alias(site: Path, webdouble_factory: Make) -> None:
    (site / "example-news.test").symlink_to(site / HOST)
    double = webdouble_factory(site)
    response, body = proxy_get(double, "http://EXAMPLE-NEWS.test./a/1.html")
    assert response.status == 200 and body == ARTICLE.encode()
    assert double.requests()[-1]["host"] == "example-news.test"


def test_bad_host_is_400(double: WebDouble) -> None:
    response, _ = proxy_get(double, "http://bad_host!/x")
    assert response.status == 400
    raw = raw_exchange(double, b"CONNECT bad_host!:443 HTTP/1.1\r\nHost: bad_host!:443\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/../secret.txt",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/secret.txt",
        "/a/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/secret.txt%00.html",
        "//etc/passwd",
        "/link.txt",  # symlink pointing out of the site folder
    ],
)
def test_traversal_is_not_served(double: WebDouble, path: str) -> None:
    response, body = tunnel_get(double, path)
    assert response.status in (400, 404)
    assert b"TOP SECRET" not in body and b"root:" not in body
    response, body = proxy_get(double, f"http://{HOST}{path}")
    assert response.status in (400, 404)
    assert b"TOP SECRET" not in body and b"root:" not in body


def test_sidecar_files_are_hidden(double: WebDouble) -> None:
    response, _ = tunnel_get(double, "/moved.html.headers.json")
    assert response.status == 404


def test_sidecar_redirect(double: WebDouble) -> None:
    response, body = tunnel_get(double, "/moved.html")
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/a/1.html"
    assert body == b""
    assert len(response.msg.get_all("Set-Cookie")) == 2


def test_sidecar_content_type_gzip_and_chunked(double: WebDouble) -> None:
    response, body = tunnel_get(double, "/api/zrqiteuuir")
    assert response.getheader("Content-Type") == "application/rss+xml; charset=utf-8"
    assert body == RSS.encode()
    response, body = tunnel_get(double, "/chunky.html", {"Accept-Encoding": "gzip"})
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == ARTICLE.encode()


def test_broken_sidecar_is_500(double: WebDouble) -> None:
    response, body = tunnel_get(double, "/broken.html")
    assert response.status == 500
    assert b"broken.html.headers.json" in body


def test_query_string_mapping(double: WebDouble, site: Path) -> None:
    assert fixture_path(site, f"https://{HOST}/?p=2") == site / HOST / "index.html%3Fp%3D2"
    assert tunnel_get(double, "/?p=2")[1] == b"<html>page 2</html>"
    assert tunnel_get(double, "/?p=3")[1] == b"<html>home</html>"  # query ignored
    assert tunnel_get(double, "/a/1.html?utm_source=x")[1] == ARTICLE.encode()
    assert tunnel_get(double, "/a")[1] == b"<html>section a</html>"  # folder, no slash
    assert double.requests()[-1]["path"] == "/a"
    assert [r["path"] for r in double.requests() if r["method"] == "GET"][:2] == [
        "/?p=2",
        "/?p=3",
    ]


def test_head(double: WebDouble) -> None:
    response, body = proxy_get(double, f"http://{HOST}/a/1.html", method="HEAD")
    assert response.status == 200
    assert body == b""
    assert response.getheader("Content-Length") == str(len(ARTICLE))
    assert double.requests()[-1]["bytes"] == 0


def test_json_log(site: Path, tmp_path: Path, webdouble_factory: Make) -> None:
    log = tmp_path / "requests.jsonl"
    double = webdouble_factory(site, log_path=log)
    tunnel_get(double, "/a/1.html", {"User-Agent": "test-agent"})
    proxy_get(double, f"http://{HOST}/nope?x=1")
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert lines == double.requests()
    assert [(r["method"], r["host"], r["path"], r["status"]) for r in lines] == [
        ("CONNECT", HOST, f"{HOST}:443", 200),
        ("GET", HOST, "/a/1.html", 200),
        ("GET", HOST, "/nope?x=1", 404),
    ]
    assert set(lines[1]) == {
        "time",
        "method",
        "scheme",
        "host",
        "path",
        "status",
        "bytes",
        "headers",
        "tunnel",
    }
    assert lines[1]["headers"]["user-agent"] == ["test-agent"]
    assert lines[1]["bytes"] == len(ARTICLE)
    double.clear_log()
    assert double.requests() == []


def test_concurrent_connections(double: WebDouble) -> None:
    idle = socket.create_connection(("127.0.0.1", double.port), timeout=10)  # never speaks
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: tunnel_get(double, "/a/1.html")[1], range(16)))
    finally:
        idle.close()
    assert results == [ARTICLE.encode()] * 16


def test_stop_interrupts_idle_keep_alive_connection(double: WebDouble) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=10)
    try:
        conn.request("GET", f"http://{HOST}/")
        conn.getresponse().read()
        double.stop()  # must not wait for the client to hang up
        assert conn.sock.recv(1) == b""
    finally:
        conn.close()
    with pytest.raises(OSError):
        proxy_get(double, f"http://{HOST}/")


def test_only_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        WebDouble(REPO, host="0.0.0.0")


def test_proxy_env(double: WebDouble) -> None:
    env = proxy_env(double)
    assert env["https_proxy"] == env["HTTP_PROXY"] == f"http://127.0.0.1:{double.port}"
    assert env["no_proxy"] == ""


def test_cli_runs_until_sigterm(site: Path, tmp_path: Path) -> None:
    port_file, log = tmp_path / "port", tmp_path / "log.jsonl"
    args = ["--root", str(site), "--port-file", str(port_file), "--log", str(log), "--gzip"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-m", "newsarchive.webdouble", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        watchdog = threading.Timer(60, proc.kill)  # a hung child fails the test, not the run
        watchdog.start()
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # blocks until the server is listening
            assert line.startswith("webdouble listening on http://127.0.0.1:")
            port = int(port_file.read_text())  # written before the banner
            assert line.split()[3] == f"http://127.0.0.1:{port}"
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", f"http://{HOST}/")
                assert conn.getresponse().read() == b"<html>home</html>"
            finally:
                conn.close()
            proc.send_signal(signal.SIGTERM)
            rest, _ = proc.communicate(timeout=30)
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0
    assert "webdouble stopped" in rest
    [entry] = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert entry["path"] == "/"


SCRAPY_SCRIPT = textwrap.dedent(
    """
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class Probe(scrapy.Spider):
        name = "probe"

        async def start(self):
            yield scrapy.Request("https://www.example-news.test/a/1.html")
            yield scrapy.Request("http://www.example-news.test/sitemap_8_news.xml")

        def parse(self, response):
            print("BODY", response.status, response.url, response.text, flush=True)

    process = CrawlerProcess(settings={
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "RETRY_ENABLED": False,
    })
    process.crawl(Probe)
    process.start()
    """
)


@pytest.mark.slow
def test_scrapy_downloads_through_the_double(
    site: Path, tmp_path: Path, webdouble_factory: Make
) -> None:
    double = webdouble_factory(site, gzip=True, chunked=True)
    env = {**os.environ, **proxy_env(double)}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRAPY_SCRIPT],
        cwd=tmp_path,  # no scrapy.cfg here: a bare Scrapy, not the project settings
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"BODY 200 https://{HOST}/a/1.html {ARTICLE}" in result.stdout
    assert f"BODY 200 http://{HOST}/sitemap_8_news.xml {SITEMAP}" in result.stdout
    gets = [r for r in double.requests() if r["method"] == "GET"]
    assert {(r["scheme"], r["path"], r["tunnel"]) for r in gets} == {
        ("https", "/a/1.html", True),
        ("http", "/sitemap_8_news.xml", False),
    }
    assert all("Scrapy" in r["headers"]["user-agent"][0] for r in gets)
