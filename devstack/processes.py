"""Start and stop the stack's background processes through pid files, leaving no orphans."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from stack.exceptions import PortInUse, StartupTimeout
from stack.pids import is_alive, live_members


def read_pid(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` if that process is still alive, else None."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if is_alive(pid) else None


def spawn(
    argv: Sequence[str],
    pid_file: Path,
    log_file: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start ``argv`` detached in its own session, logging to ``log_file``; record its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - argv is built by the stack, never from input
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )
    pid_file.write_text(str(proc.pid))
    return proc.pid


def stop(pid_file: Path, grace_seconds: float = 30.0) -> bool:
    """SIGTERM the recorded process group, wait, then SIGKILL. True when something was stopped."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    signal_group(pid, signal.SIGTERM)
    if not group_gone(pid, grace_seconds):
        signal_group(pid, signal.SIGKILL)
        group_gone(pid, 10.0)
    _reap(pid)
    pid_file.unlink(missing_ok=True)
    return True


def group_gone(leader: int, timeout: float) -> bool:
    """Wait until ``leader`` and every process of its group (what it started) no longer run."""
    return wait_until(lambda: not is_alive(leader) and not live_members(leader), timeout, interval=0.05)


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the process group ``pid`` leads: a service's own helpers go with it."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    # When the stack was started by this very process (tests), collect the child's exit status.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def require_ready(condition: Callable[[], bool], timeout: float, what: str, log_file: Path) -> None:
    """Wait for ``condition`` or raise with the tail of the service's log."""
    if not wait_until(condition, timeout, interval=0.25):
        tail = log_file.read_text(errors="replace").splitlines()[-20:] if log_file.exists() else []
        raise StartupTimeout(f"{what} not ready after {timeout:.0f}s. Log tail:\n" + "\n".join(tail))


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port_free(host: str, port: int, what: str, setting: str) -> None:
    if not port_is_free(host, port):
        raise PortInUse(
            f"{what} wants {host}:{port}, but another process listens there. "
            f"Stop it, or choose another port with {setting}."
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free right now (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
