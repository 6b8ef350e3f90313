"""The threaded server and the public :class:`WebDouble` API around it."""

from __future__ import annotations

import ipaddress
import json
import secrets
import socketserver
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from newsarchive.webdouble.content import SiteOptions
from newsarchive.webdouble.faults import Faults, load_rules
from newsarchive.webdouble.handler import ProxyHandler
from newsarchive.webdouble.tls import server_context


class RequestLog:
    """Thread-safe request log: in memory for tests, optionally mirrored to a JSON-lines file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._file: IO[str] | None = None

    def open(self, path: Path) -> None:
        """Start mirroring to ``path`` (appending, one JSON object per line)."""
        with self._lock:
            self._file = path.open("a", encoding="utf-8")

    def close(self) -> None:
        """Stop mirroring to the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def record(self, entry: dict[str, Any]) -> None:
        """Append one entry; the file line is flushed so `tail -f` and tests see it at once."""
        with self._lock:
            self._entries.append(entry)
            if self._file is not None:
                self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self._file.flush()

    def entries(self) -> list[dict[str, Any]]:
        """Snapshot of the entries."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget the in-memory entries (the file is append-only and kept)."""
        with self._lock:
            self._entries.clear()


class DoubleHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks live connections so it can stop without hanging."""

    daemon_threads = False  # server_close() joins every connection thread
    block_on_close = True
    request_queue_size = 128  # Scrapy opens many connections at once; 5 would drop SYNs

    def __init__(self, address: tuple[str, int], options: SiteOptions, log: RequestLog):
        self.options = options
        self.ssl_context = server_context()
        self.request_log = log
        self._lock = threading.Lock()
        self._handlers: set[ProxyHandler] = set()
        self._closing = False
        super().__init__(address, ProxyHandler)

    def server_bind(self) -> None:
        """Skip HTTPServer's getfqdn() reverse lookup: it can stall on machines without DNS."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-request are normal for a proxy; only report real bugs."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def register(self, handler: ProxyHandler) -> None:
        """Track a connection; one accepted while stopping is shut down at once."""
        with self._lock:
            self._handlers.add(handler)
            closing = self._closing
        if closing:
            handler.abort()

    def unregister(self, handler: ProxyHandler) -> None:
        """Forget a finished connection."""
        with self._lock:
            self._handlers.discard(handler)

    def abort_connections(self) -> None:
        """Wake every connection thread blocked on a keep-alive read so it can exit."""
        with self._lock:
            self._closing = True
            handlers = list(self._handlers)
        for handler in handlers:
            handler.abort()

    def record(self, entry: dict[str, Any]) -> None:
        """Log one request (called from connection threads)."""
        self.request_log.record(entry)


class WebDouble:
    """Forward proxy on loopback that serves ``ROOT/<host>/<path>`` for any http(s) URL.

    Use as a context manager or call :meth:`start`/:meth:`stop`; point clients at
    :attr:`proxy_url` via ``http_proxy``/``https_proxy``.
    """

    def __init__(
        self,
        root: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        gzip: bool = False,
        chunked: bool = False,
        log_path: str | Path | None = None,
        faults: str | Path | list[dict[str, Any]] | None = None,
        delay: float = 0.0,
        delay_paths: str = "*",
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ValueError(f"webdouble root {self.root} is not a directory")
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError("webdouble only binds loopback addresses")
        self.host = host
        self._port = port
        self.log_path = Path(log_path) if log_path is not None else None
        cookies = [
            f"pangea_session={secrets.token_hex(16)}; Path=/; HttpOnly; Secure; SameSite=Lax",
            f"visitor={secrets.token_hex(8)}; Path=/; Max-Age=31536000",
        ]
        self.options = SiteOptions(
            self.root,
            gzip=gzip,
            chunked=chunked,
            cookies=cookies,
            delay=delay,
            delay_paths=delay_paths,
        )
        self._log = RequestLog()
        # Fault rules and fault sidecars (faults.py): always on, inert without rules/sidecars.
        self.faults = Faults(self.root, load_rules(faults))
        self._server: DoubleHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None

    def start(self) -> WebDouble:
        """Bind and serve in a background thread; the port is known when this returns."""
        if self._server is not None:
            raise RuntimeError("webdouble already started")
        if self.log_path is not None:
            self._log.open(self.log_path)
        try:
            self._server = DoubleHTTPServer((self.host, self._port), self.options, self._log)
        except BaseException:
            self._log.close()
            raise
        self._server.faults = self.faults
        self._bound_port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"webdouble:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, interrupt open connections, join every thread, close the log."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.abort_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None
        self._log.close()

    @property
    def port(self) -> int:
        """The bound TCP port (the real one when constructed with port=0)."""
        if self._bound_port is None:
            raise RuntimeError("webdouble not started")
        return self._bound_port

    @property
    def proxy_url(self) -> str:
        """Value for ``http_proxy``/``https_proxy``."""
        return f"http://{self.host}:{self.port}"

    def requests(self) -> list[dict[str, Any]]:
        """Logged requests so far (a copy; safe to call while serving)."""
        return self._log.entries()

    def clear_log(self) -> None:
        """Forget logged requests, e.g. between phases of a test."""
        self._log.clear()

    def __enter__(self) -> WebDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.proxy_url if self._server is not None else "stopped"
        return f"<WebDouble {where} root={self.root}>"
