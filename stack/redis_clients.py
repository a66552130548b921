"""Redis clients for the configured server, built by callers at start-up, never at import."""

from __future__ import annotations

import redis
import redis.asyncio

from stack.settings import Settings

ASYNC_POOL_SIZE = 32  # one event loop's lookups are short: a few connections keep up
ASYNC_POOL_WAIT_S = 10.0


def redis_client(settings: Settings, **kwargs: object) -> redis.Redis:
    """A client for the configured Redis; built by callers at start-up, never at import."""
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    return redis.Redis.from_url(settings.redis_url, password=password, **kwargs)  # type: ignore[arg-type]


def async_redis_client(settings: Settings, max_connections: int = ASYNC_POOL_SIZE) -> redis.asyncio.Redis:
    """The same, for an event loop (its connections belong to the loop that first uses them).

    A burst of callers waits for one of ``max_connections`` connections: redis-py's default
    pool raises "Too many connections" instead (200 concurrent POSTs got 500s).
    """
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        settings.redis_url, password=password, max_connections=max_connections, timeout=ASYNC_POOL_WAIT_S
    )
    return redis.asyncio.Redis(connection_pool=pool)
