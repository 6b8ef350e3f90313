"""HTTP/1.1 proxy request handler: absolute-form GET/HEAD and CONNECT tunnels terminated in TLS.

One handler instance serves one client connection (keep-alive), including every request sent
through a CONNECT tunnel on that connection.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import time
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from newsarchive.webdouble.content import Reply, build_reply, error_reply, normalize_host
from newsarchive.webdouble.faults import FaultError, Faults, send_fault

if TYPE_CHECKING:
    from newsarchive.webdouble.server import DoubleHTTPServer

TLS_HANDSHAKE = 0x16  # first byte of a TLS ClientHello record
CHUNKS = 3  # split chunked bodies into (at least) this many chunks
MAX_CHUNK = 8192
_NO_BODY = {204, 304}


class ProxyHandler(BaseHTTPRequestHandler):
    """Serves files from the site folders as if it were a forward proxy to the real hosts."""

    protocol_version = "HTTP/1.1"
    server_version = "nginx"  # news CDNs say this; the version string is irrelevant
    sys_version = ""
    timeout = 120  # idle keep-alive connections are dropped after this many seconds
    server: DoubleHTTPServer

    def setup(self) -> None:
        """Register the connection so stop() can interrupt idle keep-alive reads."""
        super().setup()
        self.tunnel_host: str | None = None
        self.tunnel_scheme: str | None = None
        self.tls_socket: ssl.SSLSocket | None = None
        self.abort_socket = self.connection.dup()  # same TCP socket, stable across TLS wrap
        self.server.register(self)

    def finish(self) -> None:
        """Close the TLS layer and the dup too, so no socket is left for the GC to warn about."""
        self.server.unregister(self)
        try:
            super().finish()
        finally:
            if self.tls_socket is not None:
                self.tls_socket.close()
            self.abort_socket.close()

    def abort(self) -> None:
        """Shut the connection down from another thread (server stopping)."""
        with contextlib.suppress(OSError):  # already gone
            self.abort_socket.shutdown(socket.SHUT_RDWR)

    def version_string(self) -> str:
        """Server header without Python's version appended."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stderr access log: the server keeps a JSON log instead."""

    def do_GET(self) -> None:
        """Serve a file (absolute-form from a proxy client, origin-form inside a tunnel)."""
        self._serve(head=False)

    def do_HEAD(self) -> None:
        """Same as GET without the body."""
        self._serve(head=True)

    def do_CONNECT(self) -> None:
        """Accept the tunnel without any outbound connection, then speak HTTP(S) in it."""
        authority = self.path
        host = normalize_host(authority) if ":" in authority else None
        if host is None:
            self.send_error(400, "bad CONNECT target")
            return
        self._record(200, 0, host=host, path=authority)  # before the client can see the reply
        self.send_response_only(200, "Connection established")
        self.end_headers()
        self.close_connection = False
        try:
            first = self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        if not first:
            self.close_connection = True
            return
        self.tunnel_host = host
        if first[0] != TLS_HANDSHAKE:  # plain HTTP through the tunnel (e.g. port 80)
            self.tunnel_scheme = "http"
            return
        try:
            tls = self.server.ssl_context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True  # wrap_socket closed the TLS side itself
            return
        self.rfile.close()
        self.wfile.close()
        self.tls_socket = tls
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = tls.makefile("wb")
        self.tunnel_scheme = "https"

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Error replies for malformed requests: same page style, then close the connection."""
        self.close_connection = True
        reply = error_reply(code, explain or message or "", self.server.options.cookies)
        self._send(reply, self.command == "HEAD", path=None if self.command else "")

    def _serve(self, head: bool) -> None:
        target = self.path
        scheme = self.tunnel_scheme or "http"
        if target[:8].lower().startswith(("http://", "https://")):
            parts = urlsplit(target)
            scheme, hostport, path, query = (
                parts.scheme.lower(),
                parts.netloc,
                parts.path,
                parts.query,
            )
            path = path or "/"
        elif target.startswith("/"):
            path, _, query = target.partition("#")[0].partition("?")
            hostport = self.headers.get("Host") or self.tunnel_host
        else:
            self.send_error(400, "unsupported request target")
            return
        host = normalize_host(hostport)
        options = self.server.options
        if options.delay > 0 and fnmatchcase(path, options.delay_paths):
            time.sleep(options.delay)  # a slow origin (server-wide ``delay`` option)
        if host is not None and self._send_fault(host, path, query, scheme):
            return
        if host is None:
            reply = error_reply(400, "bad host", self.server.options.cookies)
        else:
            try:
                reply = build_reply(self.server.options, host, path, query, self.headers)
            except OSError as exc:  # unreadable fixture: say so instead of dropping the socket
                reply = error_reply(
                    500, f"cannot read: {exc.strerror}", self.server.options.cookies
                )
        self._send(reply, head, host=host or hostport or "", scheme=scheme)

    def _send_fault(self, host: str, path: str, query: str, scheme: str) -> bool:
        """Misbehave as a fault rule or fault sidecar says (see faults.py); False: no fault."""
        faults: Faults | None = getattr(self.server, "faults", None)
        try:
            fault = faults.match(host, path, query) if faults is not None else None
        except FaultError as exc:
            self._send(error_reply(500, str(exc), self.server.options.cookies), False, host=host)
            return True
        if fault is None:
            return False
        full = path + (f"?{query}" if query else "")

        def record(status: int, sent: int) -> None:
            self._record(status, sent, host=host, path=full, scheme=scheme)

        send_fault(self, fault, record)
        return True

    def _send(self, reply: Reply, head: bool, **where: Any) -> None:
        """Frame and write one reply, logging it first so a client never outruns the log."""
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        has_body = reply.status not in _NO_BODY
        chunked = has_body and reply.chunked and self.request_version == "HTTP/1.1"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif has_body:
            self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version != "HTTP/1.1":
            self.send_header("Connection", "keep-alive")
        send_body = has_body and not head
        self._record(reply.status, len(reply.body) if send_body else 0, **where)
        self.end_headers()
        if send_body:
            if chunked:
                size = max(1, min(MAX_CHUNK, -(-len(reply.body) // CHUNKS)))
                for start in range(0, len(reply.body), size):
                    chunk = reply.body[start : start + size]
                    self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(reply.body)
        self.wfile.flush()

    def _record(
        self,
        status: int,
        sent: int,
        *,
        host: str = "",
        path: str | None = None,
        scheme: str | None = None,
    ) -> None:
        headers: dict[str, list[str]] = {}
        for name, value in (getattr(self, "headers", None) or {}).items():
            headers.setdefault(name.lower(), []).append(value)
        self.server.record(
            {
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                "method": self.command or "",
                "scheme": scheme or self.tunnel_scheme or "http",
                "host": host or self.tunnel_host or "",
                "path": path if path is not None else _log_path(getattr(self, "path", "")),
                "status": status,
                "bytes": sent,
                "headers": headers,
                "tunnel": self.tunnel_scheme is not None,
            }
        )


def _log_path(target: str) -> str:
    """Path with query, also for absolute-form targets (the host is logged separately)."""
    if target[:8].lower().startswith(("http://", "https://")):
        parts = urlsplit(target)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return target.partition("#")[0]
