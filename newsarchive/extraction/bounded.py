"""Extraction bounded in time and memory: each page is judged in a worker process that can die.

trafilatura is quadratic on some inputs (an article of 200,000 one-letter paragraphs takes
150 s; 100,000 links in one paragraph did not finish in 5 minutes) and a 10 MB page peaks at
~300 MB, so a hostile page could stall or sink the crawl. Pages go to worker processes with an
address-space cap (``RLIMIT_AS``); a worker that misses the per-page deadline is killed and
replaced, and the page fails with a reason instead of being waited on forever.

Not :class:`concurrent.futures.ProcessPoolExecutor`: killing one of its workers breaks the whole
pool and fails every page in flight; here each worker has its own pipe and feeding thread, so a
killed worker costs only its own page. Nothing here imports Scrapy.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import pickle
import queue
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from newsarchive.extraction.document import page_markup
from newsarchive.extraction.extract import extract, is_article
from newsarchive.extraction.payload import UndecodableBody, archived_page

logger = logging.getLogger(__name__)

#: Failure reasons (``ExtractionFailed.reason``), as they appear in ``errors.jsonl``.
TIMEOUT = "extraction_timeout"
MEMORY = "extraction_memory"
CRASHED = "extraction_crashed"
FAILED = "extraction_failed"
#: Seconds a new worker may take to import and warm up before it counts as crashed.
START_TIMEOUT = 120.0
#: Seconds a worker gets to exit after being asked to, before it is killed.
STOP_GRACE = 5.0
_WARM_UP_HTML = "<html><body><article><p>warm up</p></article></body></html>"
_WORKER_CODE = (
    "import sys; from newsarchive.extraction.bounded import serve; "
    "serve(int(sys.argv[1]), int(sys.argv[2]))"
)
_FRAME = struct.Struct("!Q")  # length prefix of one pickled message
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Outcome:
    """What became of one page: an article with its fields, or the verdict "not an article"."""

    is_article: bool
    reason: str
    fields: dict[str, Any] = field(default_factory=dict)


class ExtractionFailed(Exception):
    """A page could not be judged: ``reason`` is one of the module's reason constants."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def default_workers() -> int:
    """One worker per core this process may run on (a container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def judge(
    body: bytes | str,
    encoding: str | None,
    url: str,
    hints: dict[str, Any],
    template: frozenset[str] | None = None,
) -> Outcome:
    """Decode, ask ``is_article``, then ``extract``: the whole per-page work, in one call.
    ``template``: the site's learned template (see :func:`~newsarchive.extraction.extract`)."""
    html = page_markup(body, encoding) if isinstance(body, bytes) else body
    ok, reason = is_article(html, url)
    if not ok:
        return Outcome(is_article=False, reason=reason)
    fields = extract(html, url, hints=hints, template=template)
    return Outcome(is_article=True, reason=reason, fields=fields)


def judge_archived(
    body: bytes,
    content_encoding: str,
    content_type: str,
    url: str,
    hints: dict[str, Any],
    template: frozenset[str] | None = None,
) -> Outcome:
    """:func:`judge` of an archived body as stored (``Content-Encoding`` not undone yet; see
    :mod:`newsarchive.extraction.payload`); :class:`UndecodableBody` when it does not decode."""
    page, encoding = archived_page(body, content_encoding, content_type)
    return judge(page, encoding, url, hints, template)


def _call(function: Callable[..., Outcome], args: tuple[Any, ...]) -> tuple[str, Any]:
    """A worker's reply for one page: ``("ok", outcome)`` or why not."""
    try:
        return "ok", function(*args)
    except MemoryError:
        return "memory", "MemoryError"
    except UndecodableBody as exc:  # already in words ("cannot decode body: ..."), no repr
        return "error", str(exc)
    except Exception as exc:  # any bug of a page's extraction is that page's failure
        return "error", repr(exc)[:500]


def _send(sock: socket.socket, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_FRAME.pack(len(data)))
    sock.sendall(data)


def _recv_exactly(sock: socket.socket, size: int) -> bytearray:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            raise EOFError("the other end closed the connection")
        got += n
    return buffer


def _recv(sock: socket.socket) -> Any:
    (size,) = _FRAME.unpack(_recv_exactly(sock, _FRAME.size))
    return pickle.loads(_recv_exactly(sock, size))


def _serve_forked(fd: int, max_memory: int, inherited: list[int]) -> None:
    """A forked worker's main: let go of what it inherited, then :func:`serve`."""
    for other in inherited:  # the parent's ends of the pipes to the workers forked before
        os.close(other)
    devnull = os.open(os.devnull, os.O_WRONLY)  # a feed may be going to our standard output
    os.dup2(devnull, 1)
    os.close(devnull)
    serve(fd, max_memory, forked=True)


class _ForkedProcess:
    """A worker forked by :mod:`multiprocessing`, seen through ``subprocess.Popen``'s
    ``kill``/``wait``, as :class:`_Worker` uses its processes."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None = None) -> int | None:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("newsarchive extraction worker", timeout or 0)
        return self._process.exitcode


def can_fork() -> bool:
    """Whether workers may be forked from this process now: Linux, and no other thread (a
    lock another thread holds would stay locked in the child forever)."""
    return sys.platform == "linux" and threading.active_count() == 1


def _fork_workers(count: int, max_memory: int) -> list[tuple[_ForkedProcess, socket.socket]]:
    """``count`` workers forked from this process, each with our end of its pipe.

    A fresh interpreter per worker spends ~0.2 s of CPU importing trafilatura, which ``scrapy
    reextract`` has imported already; forked, each worker only warms up (~0.2 s, while the
    command reads the archive's index on the other core). The garbage collector's objects are
    frozen first so that the workers' collections do not copy the pages they share with us.
    """
    for stream in (sys.stdout, sys.stderr):  # else the child would flush our buffers again
        stream.flush()
    context = multiprocessing.get_context("fork")
    started: list[tuple[_ForkedProcess, socket.socket]] = []
    gc.freeze()
    try:
        for _ in range(count):
            ours, theirs = socket.socketpair()
            inherited = [sock.fileno() for _, sock in started] + [ours.fileno()]
            process = context.Process(
                target=_serve_forked,
                args=(theirs.fileno(), max_memory, inherited),
                name="newsarchive-extract",
            )
            try:
                process.start()
            finally:
                theirs.close()
            started.append((_ForkedProcess(process), ours))
    finally:
        gc.unfreeze()
    return started


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when its parent dies (a killed crawl leaves no worker)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the worker ends at its next read instead
        pass


def serve(fd: int, max_memory: int, *, forked: bool = False) -> None:
    """A worker's main: cap the address space, warm up, then judge pages until told to stop.

    Started by :class:`BoundedExtractor` as ``python -c`` with one end of a socket pair, or
    ``forked`` from a process that imported extraction already.
    """
    # Ctrl-C and SIGTERM are the crawl's to handle; it stops its workers when it is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent()
    logging.basicConfig(
        level=logging.WARNING,
        format=f"newsarchive extraction worker {os.getpid()}: %(levelname)s %(name)s: %(message)s",
        force=forked,  # the parent's handlers are not the worker's
    )
    if max_memory > 0:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = max_memory if hard == resource.RLIM_INFINITY else min(max_memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    sock = socket.socket(fileno=fd)
    extract(_WARM_UP_HTML, "http://localhost/a/1.html")  # trafilatura's first call loads data
    _send(sock, ("ready", os.getpid()))
    while True:
        try:
            job = _recv(sock)
        except (EOFError, OSError):  # the parent is gone
            return
        if job is None:
            return
        reply = _call(*job)
        del job
        _send(sock, reply)
        if reply[0] == "memory":
            return  # half-allocated C structures may remain: start afresh


@dataclass
class _Job:
    function: Callable[..., Outcome]
    """:func:`judge` or :func:`judge_archived`: module functions, pickled by name."""
    args: tuple[Any, ...]
    url: str
    future: Future[Outcome]


class _Worker:
    """One worker process, fed by one thread that enforces the deadline."""

    def __init__(
        self,
        pool: BoundedExtractor,
        number: int,
        forked: tuple[_ForkedProcess, socket.socket] | None = None,
    ) -> None:
        self.pool = pool
        self.process: subprocess.Popen[bytes] | _ForkedProcess | None = None
        self.sock: socket.socket | None = None
        if forked is not None:
            self.process, self.sock = forked
        #: Processes of this worker killed or lost (timeouts, memory, crashes).
        self.replaced = 0
        self.thread = threading.Thread(
            target=self._run, name=f"newsarchive-extract-{number}", daemon=True
        )
        self.thread.start()

    def _start(self) -> None:
        # A fresh interpreter (not fork: forking a threaded reactor is unsafe, and once this
        # pool's threads run, so is forking any process; not multiprocessing's spawn: it
        # re-imports the caller's __main__, which a script without an ``if __name__ ==
        # "__main__"`` guard does not survive).
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WORKER_CODE,
                    str(theirs.fileno()),
                    str(self.pool.max_memory),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # a feed may be going to our standard output
            )
        finally:
            theirs.close()
        self.sock = ours
        self._await_ready()

    def _await_ready(self) -> None:
        """Wait for the new process's "ready" (it has imported and warmed up)."""
        assert self.sock is not None
        if not _readable(self.sock, START_TIMEOUT):
            self._reap()
            raise ExtractionFailed(CRASHED, f"worker did not start within {START_TIMEOUT:g} s")
        try:
            _recv(self.sock)
        except (EOFError, OSError):
            code = self._reap()
            raise ExtractionFailed(
                CRASHED, f"worker died while starting (exit code {code})"
            ) from None

    def _reap(self, kill: bool = True) -> int | None:
        """Stop the current process (killing it if ``kill``) and forget it; its exit code."""
        process, sock = self.process, self.sock
        self.process = self.sock = None
        if sock is not None:
            sock.close()
        if process is None:
            return None
        if kill:
            process.kill()
        try:
            return process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def _run(self) -> None:
        with contextlib.suppress(ExtractionFailed):  # start now; else retried with a page
            if self.process is None:
                self._start()
            else:
                self._await_ready()
        while True:
            job = self.pool.jobs.get()
            if job is None:
                break
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                job.future.set_result(self._judge(job))
            except BaseException as exc:  # a bug here must not strand the page's caller
                job.future.set_exception(exc)
        self._stop()

    def _judge(self, job: _Job) -> Outcome:
        if self.process is None:
            self._start()
        assert self.sock is not None
        url = job.url
        try:
            _send(self.sock, (job.function, job.args))
        except OSError:
            code = self._reap()
            self.replaced += 1
            raise ExtractionFailed(CRASHED, f"worker died (exit code {code})") from None
        timeout = self.pool.timeout if self.pool.timeout > 0 else None
        started = time.monotonic()
        if not _readable(self.sock, timeout):
            self._reap()
            self.replaced += 1
            logger.warning(
                "Extraction of %s took more than %g s: worker killed", url, self.pool.timeout
            )
            raise ExtractionFailed(
                TIMEOUT, f"not finished after {time.monotonic() - started:.1f} s"
            )
        try:
            kind, value = _recv(self.sock)
        except (EOFError, OSError):
            code = self._reap()
            self.replaced += 1
            raise ExtractionFailed(CRASHED, f"worker died (exit code {code})") from None
        if kind == "ok":
            return value
        if kind == "memory":
            self._reap(kill=False)
            self.replaced += 1
            raise ExtractionFailed(
                MEMORY, f"over the worker's memory cap of {self.pool.max_memory} bytes"
            )
        raise ExtractionFailed(FAILED, value)

    def _stop(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):  # already gone: reaped below all the same
                _send(self.sock, None)
        self._reap(kill=False)


def _readable(sock: socket.socket, timeout: float | None) -> bool:
    """Wait until ``sock`` has data (or EOF) for at most ``timeout`` seconds."""
    readable, _, _ = select.select([sock], [], [], timeout)
    return bool(readable)


class BoundedExtractor:
    """Judge pages in ``workers`` processes, each page within ``timeout`` s and ``max_memory``.

    ``workers=0`` judges in the calling thread, with no bound at all (for debuggers and
    profilers). ``timeout`` or ``max_memory`` of 0 switch that bound off. ``fork``: start the
    workers by forking this process when :func:`can_fork` says it is safe (``scrapy
    reextract``, before any thread runs; not the crawl, whose reactor must not be forked);
    a worker replaced later is always a fresh interpreter. A forked worker's ``max_memory``
    counts the memory it shares with this process (~100 MB for reextract).
    """

    def __init__(
        self, workers: int, timeout: float, max_memory: int, *, fork: bool = False
    ) -> None:
        self.timeout = timeout
        self.max_memory = max_memory
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        count = max(0, workers)
        forked = _fork_workers(count, max_memory) if fork and count and can_fork() else []
        self._workers = [
            _Worker(self, n, forked[n] if n < len(forked) else None) for n in range(count)
        ]
        self._closed = False

    @property
    def workers(self) -> int:
        return len(self._workers)

    @property
    def replaced(self) -> int:
        """Worker processes killed or lost so far (each one is replaced for the next page)."""
        return sum(worker.replaced for worker in self._workers)

    def submit(
        self,
        body: bytes | str,
        encoding: str | None,
        url: str,
        hints: dict[str, Any] | None = None,
        template: frozenset[str] | None = None,
    ) -> Future[Outcome]:
        """Queue one page; the future holds its :class:`Outcome` or :class:`ExtractionFailed`."""
        return self._submit(judge, (body, encoding, url, dict(hints or {}), template), url)

    def submit_archived(
        self,
        body: bytes,
        content_encoding: str,
        content_type: str,
        url: str,
        hints: dict[str, Any] | None = None,
        template: frozenset[str] | None = None,
    ) -> Future[Outcome]:
        """Queue one archived body as stored (:func:`judge_archived`): the worker undoes its
        ``Content-Encoding`` and picks its charset. A body that does not decode fails with
        :data:`FAILED` ("cannot decode body: ...")."""
        args = (body, content_encoding, content_type, url, dict(hints or {}), template)
        return self._submit(judge_archived, args, url)

    def _submit(
        self, function: Callable[..., Outcome], args: tuple[Any, ...], url: str
    ) -> Future[Outcome]:
        if self._closed:
            raise RuntimeError("BoundedExtractor.submit() after close()")
        future: Future[Outcome] = Future()
        if not self._workers:
            future.set_running_or_notify_cancel()
            kind, value = _call(function, args)  # same contract as the workers
            if kind == "ok":
                future.set_result(value)
            else:
                reason = MEMORY if kind == "memory" else FAILED
                future.set_exception(ExtractionFailed(reason, value))
            return future
        self.jobs.put(_Job(function, args, url, future))
        return future

    def close(self) -> None:
        """Let queued pages finish, then stop every worker process."""
        if self._closed:
            return
        self._closed = True
        for _ in self._workers:
            self.jobs.put(None)
        for worker in self._workers:
            worker.thread.join()

    def __enter__(self) -> BoundedExtractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
