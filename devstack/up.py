"""`mlops-fc up` / `down` / `ps`: the local stack plus every service under one supervisor.

Services and names follow docker-compose.yml (worker-N as compose names a scaled worker):
monitor, retrainer, worker-1..N, sink, api. Their spec, pid file, state file and logs live
in <state_dir>/up/.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devstack import readiness
from devstack.local import LocalStack
from devstack.processes import free_port, is_alive, read_pid, spawn, stop, wait_until
from devstack.services import settings_env
from devstack.supervisor import PROJECT_ROOT, ServiceSpec, Spec
from stack.exceptions import StartupTimeout
from stack.settings import Settings
from stack.supervised import ServiceStatus, read_state, state_file, up_dir
from stack.topic_admin import ensure_topics

SUPERVISOR_GRACE_S = 60.0  # the supervisor itself gives each service 30 s


@dataclass(frozen=True)
class Row:
    """One line of `ps`: what the supervisor knows and what the service says."""

    name: str
    state: str
    pid: int | None
    restarts: int
    ready: bool
    detail: str
    log: str


@dataclass(frozen=True)
class UpResult:
    already_up: bool
    rows: list[Row]
    model_version: str | None


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    base = up_dir(settings.state_dir)
    return base / "spec.json", base / "supervisor.pid", base / "supervisor.log"


def plan(settings: Settings, workers: int, sink: bool = True) -> Spec:
    """The services for ``settings``: worker metrics on consecutive ports (free ones when 0)."""
    logs = up_dir(settings.state_dir) / "logs"
    base = settings.worker_metrics_port
    host = readiness.local_host(settings.worker_metrics_host)
    services = [
        ServiceSpec("monitor", ["monitor"], str(logs / "monitor.log")),
        ServiceSpec("retrainer", ["retrainer"], str(logs / "retrainer.log")),
    ]
    for index in range(1, workers + 1):
        port = base + index - 1 if base else free_port()
        name = f"worker-{index}"
        services.append(
            ServiceSpec(
                name,
                ["worker", "--name", name, "--loglevel", "info", "--metrics-port", str(port)],
                str(logs / f"{name}.log"),
                metrics_url=f"http://{host}:{port}/metrics",
            )
        )
    if sink:
        services.append(ServiceSpec("sink", ["sink"], str(logs / "sink.log")))
    services.append(ServiceSpec("api", ["api"], str(logs / "api.log")))
    return Spec(settings.topic_prefix, settings_env(settings), services, settings.up_restart_backoff_max_s)


def _same(running: Spec, wanted: Spec) -> bool:
    """Same services on the same settings (free ports picked anew do not count)."""
    ours = {k: v for k, v in wanted.env.items() if k.startswith("MLOPS_FC_")}
    theirs = {k: v for k, v in running.env.items() if k.startswith("MLOPS_FC_")}
    names = [s.name for s in running.services] == [s.name for s in wanted.services]
    return names and ours == theirs


def up(settings: Settings, workers: int = 1, sink: bool = True) -> UpResult:
    """Start what is not running; returns once every service is ready. Idempotent."""
    return wait_ready(settings, start(settings, workers, sink))


def start(settings: Settings, workers: int = 1, sink: bool = True) -> bool:
    """The stack up and its topics made, the services spawned: True when they already ran.

    Returns without waiting for the services to be ready (``wait_ready``): their start-up
    (imports, group joins) takes a minute on busy cores, which a caller can spend on work of
    its own that needs only Kafka, Redis and MLflow.
    """
    LocalStack(settings).up()
    ensure_topics(settings)
    spec_path, pid_file, log_file = _paths(settings)
    wanted = plan(settings, workers, sink)
    already = read_pid(pid_file) is not None and spec_path.exists() and _same(Spec.read(spec_path), wanted)
    if not already:
        stop_services(settings)
        spec_path.parent.mkdir(parents=True, exist_ok=True)
        wanted.write(spec_path)
        state_file(settings.state_dir).unlink(missing_ok=True)
        spawn(
            [
                sys.executable,
                "-m",
                "devstack.supervisor",
                str(spec_path),
                str(state_file(settings.state_dir)),
            ],
            pid_file,
            log_file,
            cwd=PROJECT_ROOT,
        )
    return already


def wait_ready(settings: Settings, already: bool) -> UpResult:
    """Once every service started by ``start`` is ready (deadline: MLOPS_FC_UP_READY_TIMEOUT_S)."""
    rows, version = _wait_ready(settings, settings.up_ready_timeout_s)
    return UpResult(already, rows, version)


def _wait_ready(settings: Settings, timeout: float) -> tuple[list[Row], str | None]:
    deadline = time.monotonic() + timeout
    while True:
        rows, version = status(settings)
        if rows and all(r.ready for r in rows):
            return rows, version
        if time.monotonic() > deadline:
            waiting = [r for r in rows if not r.ready]
            tails = "\n".join(f"--- {r.name}: {r.detail}\n{_tail(Path(r.log))}" for r in waiting)
            raise StartupTimeout(
                f"not ready after {timeout:.0f}s: {', '.join(r.name for r in waiting)}\n{tails}"
            )
        time.sleep(0.5)  # each probe is a network round trip: no faster polling  # noqa: sleep-ok


def status(settings: Settings) -> tuple[list[Row], str | None]:
    """Every supervised service with its readiness; the serving model version (from the api)."""
    state = read_state(state_file(settings.state_dir))
    spec_path, pid_file, _ = _paths(settings)
    if state is None or read_pid(pid_file) is None or not spec_path.exists():
        return [], None
    urls = {s.name: s.metrics_url for s in Spec.read(spec_path).services}
    try:
        found = readiness.groups(settings)
    except Exception:  # noqa: BLE001 - the broker is down: every group check says not ready
        found = {}
    workers = sum(1 for s in state.services if s.name.startswith("worker-"))
    api, version = readiness.api_readiness(settings)
    rows = []
    for service in state.services:
        probe = _probe(settings, service, found, workers, api, urls.get(service.name))
        ready = service.state == "running" and probe.ready
        rows.append(
            Row(service.name, service.state, service.pid, service.restarts, ready, probe.detail, service.log)
        )
    return rows, version


def _probe(
    settings: Settings,
    service: ServiceStatus,
    found: dict[str, tuple[str, int]],
    workers: int,
    api: readiness.Readiness,
    metrics_url: str | None,
) -> readiness.Readiness:
    prefix = settings.topic_prefix
    if service.name == "api":
        return api
    if service.name.startswith("worker-"):
        if metrics_url and not readiness.metrics_answer(metrics_url):
            return readiness.Readiness(False, f"{metrics_url} does not answer yet")
        return readiness.group_readiness(found, f"{prefix}{settings.worker_app_id}", workers)
    group = {
        "monitor": settings.monitor_group_id,
        "retrainer": "mlops-fc-retrainer",
        "sink": settings.sink_group_id,
    }[service.name]
    return readiness.group_readiness(found, f"{prefix}{group}", 1)


def stop_services(settings: Settings) -> bool:
    """Stop the supervisor (it stops its services), then anything it left behind."""
    _, pid_file, _ = _paths(settings)
    stopped = stop(pid_file, SUPERVISOR_GRACE_S)
    state = read_state(state_file(settings.state_dir))
    for service in state.services if state else []:
        if service.pid is not None and is_alive(service.pid):  # the supervisor was killed hard
            stopped = True
            _kill_orphan(service.pid)
    return stopped


def _kill_orphan(pid: int) -> None:
    import os
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: not is_alive(pid), 30.0):
            return


def down(settings: Settings) -> list[str]:
    """Services first, then Kafka and Redis; the names of what was running."""
    stopped = ["services"] if stop_services(settings) else []
    return stopped + LocalStack(settings).down()


def explain(settings: Settings) -> str:
    """The last lines of every supervised service's log, for an error message."""
    state = read_state(state_file(settings.state_dir))
    return (
        "\n".join(
            f"--- {s.name} ({s.state}, {s.restarts} restarts)\n{_tail(Path(s.log))}" for s in state.services
        )
        if state
        else ""
    )


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
