"""One Redis client per worker, from ``NEWSARCHIVE_DISTRIBUTED=redis://host:port/db``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis

#: Client options: give up on a dead server instead of hanging a worker forever.
CLIENT_OPTIONS = {"socket_timeout": 30, "socket_connect_timeout": 10, "retry_on_timeout": True}


def redis_url_error(url: str) -> str | None:
    """Why ``url`` is not a Redis URL (None when it is one)."""
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "unix"):
        return (
            f"NEWSARCHIVE_DISTRIBUTED={url!r} is not a Redis URL: give "
            "redis://host:6379/0 (or rediss://, unix://)"
        )
    return None


def connect(url: str) -> Any:
    """A checked client: a wrong address fails here, naming the setting, not mid-crawl."""
    problem = redis_url_error(url)
    if problem:
        raise ValueError(problem)
    client = redis.Redis.from_url(url, **CLIENT_OPTIONS)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise ConnectionError(
            f"NEWSARCHIVE_DISTRIBUTED={url!r}: cannot reach Redis ({exc}); start redis-server "
            "there or fix the address"
        ) from exc
    return client
