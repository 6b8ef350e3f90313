"""Command line entry point: ``python -m newsarchive.webdouble`` / ``newsarchive-webdouble``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from newsarchive.webdouble.server import WebDouble


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsarchive-webdouble",
        description="Serve ROOT/<host>/<path> as a local forward proxy for http(s) URLs.",
    )
    parser.add_argument("--root", required=True, type=Path, help="folder with one dir per host")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--gzip", action="store_true", help="gzip text bodies when accepted")
    parser.add_argument("--chunked", action="store_true", help="use chunked transfer coding")
    parser.add_argument("--log", type=Path, help="append one JSON line per request here")
    parser.add_argument("--port-file", type=Path, help="write the bound port to this file")
    parser.add_argument("--faults", type=Path, help="JSON list of fault rules (see faults.py)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--delay-paths", default="*", help="glob of the paths --delay applies to")
    return parser


def _write_port_file(path: Path, port: int) -> None:
    """Write atomically so a waiting process never reads a half-written port."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{port}\n", encoding="ascii")
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the double until SIGTERM/SIGINT; returns the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"--root {args.root} is not a directory")
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        double = WebDouble(
            args.root,
            port=args.port,
            gzip=args.gzip,
            chunked=args.chunked,
            log_path=args.log,
            faults=args.faults,
            delay=args.delay,
            delay_paths=args.delay_paths,
        )
        try:
            double.start()
        except OSError as exc:
            print(f"webdouble: cannot listen on port {args.port}: {exc}", file=sys.stderr)
            return 1
        try:
            if args.port_file is not None:  # before the banner: the banner means "ready"
                _write_port_file(args.port_file, double.port)
            print(f"webdouble listening on {double.proxy_url} root={double.root}", flush=True)
            stop.wait()
        finally:
            double.stop()
        print("webdouble stopped", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
