"""Debian's redis-server, started by the project on its own port."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import redis

from devstack.processes import ensure_port_free, read_pid, require_ready, spawn, stop
from stack.exceptions import PrerequisiteMissing
from stack.redis_clients import redis_client
from stack.settings import Settings


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
