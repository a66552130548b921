"""The supervisor of `mlops-fc up`: keeps every service running, restarting with backoff.

It runs detached (its own session, a pid file) as ``python -m devstack.supervisor SPEC``.
Each service is a child in a session of its own, logging to its file; when one exits the
supervisor counts the restart and starts it again after a backoff that doubles while the
service keeps dying young. Everything it knows goes to the state file (stack.supervised)
after each change. SIGTERM stops the services (SIGTERM, grace, SIGKILL), then itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from devstack.processes import group_gone, signal_group
from stack.supervised import ServiceStatus, SupervisorState, write_state

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BACKOFF_FIRST_S = 1.0
HEALTHY_RUN_S = 60.0  # a service that ran this long before dying starts again from the first backoff
STOP_GRACE_S = 30.0
KILL_WAIT_S = 10.0


@dataclass(frozen=True)
class ServiceSpec:
    """One supervised service: ``mlops-fc <args>`` with its log file."""

    name: str
    args: list[str]
    log: str
    metrics_url: str | None = None


@dataclass(frozen=True)
class Spec:
    """What `up` asked for: the services, their environment and the backoff ceiling."""

    topic_prefix: str
    env: dict[str, str]
    services: list[ServiceSpec]
    backoff_max_s: float

    def write(self, path: Path) -> None:
        body = {
            "topic_prefix": self.topic_prefix,
            "env": self.env,
            "backoff_max_s": self.backoff_max_s,
            "services": [s.__dict__ for s in self.services],
        }
        path.write_text(json.dumps(body, indent=1))
        path.chmod(0o600)  # the environment holds the secrets

    @classmethod
    def read(cls, path: Path) -> Spec:
        raw = json.loads(path.read_text())
        services = [ServiceSpec(**s) for s in raw.pop("services")]
        return cls(services=services, **raw)


def backoff_s(failures: int, ceiling: float) -> float:
    """Seconds before restart number ``failures`` (1, 2, ...) of a service that keeps dying."""
    return min(ceiling, BACKOFF_FIRST_S * 2 ** max(0, failures - 1))


@dataclass
class Child:
    spec: ServiceSpec
    status: ServiceStatus
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = field(default=None, repr=False)
    failures: int = 0
    start_at: float = 0.0  # monotonic time of the next start while restarting


class Supervisor:
    def __init__(self, spec: Spec, state_path: Path) -> None:
        self.spec = spec
        self.state_path = state_path
        self.children = [
            Child(s, ServiceStatus(s.name, log=s.log, metrics_url=s.metrics_url)) for s in spec.services
        ]
        self.wake = threading.Event()
        self.stopping = False

    def run(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop_requested)
        signal.signal(signal.SIGCHLD, lambda *_: self.wake.set())  # a child exited: look now
        while not self.stopping:
            self.wake.clear()
            changed = any([self._tend(child) for child in self.children])
            if changed:
                self._save()
            self.wake.wait(0.5)
        self._stop_all()

    def _stop_requested(self, *_: object) -> None:
        self.stopping = True
        self.wake.set()

    def _tend(self, child: Child) -> bool:
        """Start, notice an exit, or restart one child; True when its status changed."""
        now = time.monotonic()
        if child.process is None:
            if now < child.start_at:
                return False
            self._start(child)
            return True
        code = child.process.poll()
        if code is None:
            return False
        ran = time.time() - (child.status.started_at or time.time())
        child.failures = 1 if ran >= HEALTHY_RUN_S else child.failures + 1
        child.process = None
        child.status.state, child.status.last_exit, child.status.pid = "restarting", code, None
        child.start_at = now + backoff_s(child.failures, self.spec.backoff_max_s)
        self._close_log(child)
        return True

    def _start(self, child: Child) -> None:
        log_path = Path(child.spec.log)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        child.log = log_path.open("ab")
        child.process = subprocess.Popen(  # noqa: S603 - our own CLI with arguments built by `up`
            [sys.executable, "-m", "cli.main", *child.spec.args],
            stdout=child.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.spec.env,
            cwd=PROJECT_ROOT,
            start_new_session=True,  # stopped one by one by the supervisor, never by a group signal
        )
        if child.status.state == "restarting":
            child.status.restarts += 1
        child.status.state, child.status.pid = "running", child.process.pid
        child.status.started_at = time.time()

    def _stop_all(self) -> None:
        """Front first (api, sink), then workers, then the back (retrainer, monitor)."""
        for child in reversed(self.children):
            if child.process is not None:
                signal_group(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in reversed(self.children):
            if child.process is None:
                continue
            group = child.process.pid  # each service leads its own session and group
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(group, signal.SIGKILL)
                child.process.wait(10)
            # What the service started (the `tail -F` of `logs -f`) may outlive it a moment: wait.
            if not group_gone(group, max(0.0, deadline - time.monotonic())):
                signal_group(group, signal.SIGKILL)
                group_gone(group, KILL_WAIT_S)
            child.status.last_exit = child.process.returncode
            child.process = None
            self._close_log(child)
        for child in self.children:
            child.status.state, child.status.pid = "down", None
        self._save(stopping=True)

    @staticmethod
    def _close_log(child: Child) -> None:
        if child.log is not None:
            child.log.close()
            child.log = None

    def _save(self, stopping: bool = False) -> None:
        write_state(
            self.state_path,
            SupervisorState(
                supervisor_pid=os.getpid(),
                topic_prefix=self.spec.topic_prefix,
                services=[c.status for c in self.children],
                updated_at=time.time(),
                stopping=stopping,
            ),
        )


def main() -> None:
    spec_path = Path(sys.argv[1])  # argv: SPEC STATE
    Supervisor(Spec.read(spec_path), Path(sys.argv[2])).run()


if __name__ == "__main__":
    main()
