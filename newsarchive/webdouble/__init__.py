"""The web double: a loopback forward proxy that serves news sites from a folder.

Spiders keep their real URLs (``https://www.rferl.org/a/x/123.html``) and run with
``http_proxy``/``https_proxy`` pointing here, so tests and demos never touch the internet.
It never connects anywhere: CONNECT tunnels are answered locally and terminated with a
throwaway self-signed certificate (clients of the double do not verify certificates).

Usage::

    with WebDouble("tests/site", gzip=True) as double:
        env = {"https_proxy": double.proxy_url, "http_proxy": double.proxy_url}
        ...
        assert [r["path"] for r in double.requests() if r["method"] == "GET"] == [...]

    python -m newsarchive.webdouble --root DIR [--port 0] [--gzip] [--chunked]
                                    [--log FILE] [--port-file FILE]

File mapping (``ROOT/<host>/<path>``):

* The host (from an absolute-form URL, the Host header, or the CONNECT target) must be a
  plain DNS name, else 400. A host without a folder gets 404 (not 502: Scrapy retries 502);
  CONNECT is always accepted, the 404 then comes from inside the tunnel.
* The path is percent-decoded (UTF-8); ``/`` or a trailing ``/`` means ``index.html``; a
  folder requested without the slash serves its ``index.html``. ``..`` segments, NUL and
  backslashes are 400; anything resolving (through symlinks) outside ``ROOT/<host>`` is 404.
* Query strings: first the file ``<name>%3F<quote(raw_query, safe="")>`` next to ``<name>``
  (``/?p=2`` -> ``index.html%3Fp%3D2``; ``/s?q=a b&x=1`` sent as ``q=a%20b&x=1`` ->
  ``s%3Fq%3Da%2520b%26x%3D1``), else the query is ignored. :func:`query_filename` and
  :func:`fixture_path` compute these names.
* ``X.gz`` missing but ``X`` present: the gzip of ``X`` is served as ``application/x-gzip``
  (no Content-Encoding), so fixtures keep ``sitemap.xml`` readable for ``sitemap.xml.gz``.
* ``*.headers.json`` files are never served. Content-Type comes from the extension of the
  name (the query part excluded); extension-less names are ``text/html; charset=utf-8``.

Per-file overrides: an optional sidecar ``<file>.headers.json`` (it may exist without the file,
e.g. for a redirect; the body is then empty)::

    {"status": 301,                        # default 200 (allowed 200-599)
     "headers": {"Location": "https://www.rferl.org/new.html",   # replace same-named
                 "Content-Type": "application/rss+xml; charset=utf-8",  # default headers;
                 "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"]},  # a list -> repeated lines
     "gzip": true,                         # gzip if the client accepts it (any type)
     "chunked": true}                      # Transfer-Encoding: chunked

Content-Length, Transfer-Encoding and Connection cannot be overridden (the server frames).

Every response carries Date, Server, two Set-Cookie lines and, for files, Last-Modified,
ETag (quoted hash of the body as sent) and Content-Type. ``If-None-Match`` / ``If-Modified-Since``
give 304. Server-wide ``gzip=True`` gzips text types for clients sending ``Accept-Encoding: gzip``
(with ``Vary: Accept-Encoding``); ``chunked=True`` sends every body in several chunks.
``delay=0.3, delay_paths="/a/*"`` waits 0.3 s before answering each matching path (a slow
origin, e.g. to kill a crawl at a chosen moment).

Request log: one dict (and one JSON line in ``log_path``) per request with ``time``,
``method``, ``scheme``, ``host``, ``path`` (with query), ``status``, ``bytes`` (body bytes
sent), ``headers`` (lower-cased name -> list of values) and ``tunnel`` (request came through a
CONNECT tunnel). CONNECT itself is logged with method ``CONNECT``, path ``host:port`` and
``tunnel`` false.
"""

from __future__ import annotations

from newsarchive.webdouble.cli import main
from newsarchive.webdouble.content import fixture_path, query_filename
from newsarchive.webdouble.server import WebDouble

__all__ = ["WebDouble", "fixture_path", "main", "query_filename"]
