"""Run the project's own services (worker, retrainer, monitor, api) as child processes.

The pipeline command and the tests start services the way a user would, as separate
processes of the `mlops-fc` CLI with the same settings in their environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from stack.settings import Settings


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process read exactly these settings."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            env.pop(f"MLOPS_FC_{name.upper()}", None)
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"MLOPS_FC_{name.upper()}"] = str(value)
    return env


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown, no final commit."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._log.close()

    def stop(self, grace: float = 30.0) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


def start_service(
    settings: Settings,
    name: str,
    *args: str,
    log_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Service:
    """Start ``mlops-fc <args>`` with ``settings`` in its environment, logging to a file."""
    log_dir = log_dir or settings.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    env = {**settings_env(settings), **(extra_env or {})}
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "cli.main", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return Service(name, process, log_path, log)
