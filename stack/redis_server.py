"""Debian's redis-server, started by the project on its own port."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import redis
import redis.asyncio

from stack.exceptions import PrerequisiteMissing
from stack.processes import ensure_port_free, read_pid, require_ready, spawn, stop
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


@dataclass(frozen=True)
class RedisServer:
    """The local Redis; files live under ``<state_dir>/redis``."""

    settings: Settings

    @property
    def home(self) -> Path:
        return self.settings.state_dir / "redis"

    @property
    def pid_file(self) -> Path:
        return self.home / "redis.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "redis.log"

    @property
    def host_port(self) -> tuple[str, int]:
        url = urlparse(self.settings.redis_url)
        return url.hostname or "127.0.0.1", url.port or 6379

    def running_pid(self) -> int | None:
        return read_pid(self.pid_file)

    def is_healthy(self) -> bool:
        try:
            return bool(redis_client(self.settings, socket_timeout=1, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def up(self, timeout: float = 20.0) -> None:
        if self.running_pid() is not None:
            require_ready(self.is_healthy, timeout, "Redis", self.log_file)
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise PrerequisiteMissing(
                "redis-server is missing: run scripts/setup.sh, or apt-get install redis-server"
            )
        host, port = self.host_port
        ensure_port_free(host, port, "Redis", "MLOPS_FC_REDIS_URL")
        self.home.mkdir(parents=True, exist_ok=True)
        argv = [
            binary,
            "--bind",
            host,
            "--port",
            str(port),
            "--dir",
            str(self.home.resolve()),
            "--daemonize",
            "no",
            "--save",
            "",
        ]
        # AOF keeps the published models across restarts of the local run; tests need none.
        argv += ["--appendonly", "yes" if self.settings.redis_persistence else "no"]
        if self.settings.redis_password:
            argv += ["--requirepass", self.settings.redis_password.get_secret_value()]
        spawn(argv, self.pid_file, self.log_file)
        require_ready(self.is_healthy, timeout, "Redis", self.log_file)

    def down(self) -> bool:
        return stop(self.pid_file, grace_seconds=10.0)
