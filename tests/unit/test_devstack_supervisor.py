"""The supervisor of `mlops-fc up` with real child processes (no broker needed): a service that
exits is restarted with growing backoff and counted; SIGTERM stops every child's process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from devstack.processes import is_alive, wait_until
from devstack.supervisor import PROJECT_ROOT, ServiceSpec, Spec, backoff_s
from stack.supervised import ServiceStatus, read_state, services_view, state_file, write_state
from stack.supervised import SupervisorState as State

DEADLINE_S = 120.0


def test_backoff_doubles_up_to_its_ceiling() -> None:
    assert [backoff_s(n, 5.0) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def _children(pid: int) -> list[int]:
    """Every process in the session ``pid`` leads (the service and what it started)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[3]) == pid:  # the session id
            found.append(int(stat.parent.name))
    return found


def test_a_dying_service_is_restarted_and_stop_leaves_no_process(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    followed = state_dir / "up" / "logs" / "api.log"
    followed.parent.mkdir(parents=True)
    followed.write_text("a line\n")
    env = {**os.environ, "MLOPS_FC_STATE_DIR": str(state_dir)}
    spec = Spec(
        topic_prefix="t.",
        env=env,
        services=[
            ServiceSpec("quitter", ["--help"], str(tmp_path / "quitter.log")),  # exits at once
            ServiceSpec("follower", ["logs", "api", "-f"], str(tmp_path / "follower.log")),  # runs `tail -F`
        ],
        backoff_max_s=0.5,
    )
    spec_path, state_path = tmp_path / "spec.json", state_file(state_dir)
    spec.write(spec_path)
    supervisor = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "devstack.supervisor", str(spec_path), str(state_path)], cwd=PROJECT_ROOT
    )
    try:

        def service(name: str) -> ServiceStatus | None:
            state = read_state(state_path)
            return next((s for s in state.services if s.name == name), None) if state else None

        assert wait_until(lambda: (s := service("quitter")) is not None and s.restarts >= 2, DEADLINE_S)
        assert service("quitter").last_exit == 0  # type: ignore[union-attr]
        follower = service("follower")
        assert follower is not None and follower.state == "running" and follower.restarts == 0
        leader = follower.pid
        assert leader is not None
        assert wait_until(lambda: len(_children(leader)) >= 2, DEADLINE_S)  # the CLI and its tail
        group = _children(leader)
        assert services_view(state_dir)["supervised"] is True
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(60)
    state = read_state(state_path)
    assert state is not None and state.stopping
    assert {s.state for s in state.services} == {"down"}
    assert [pid for pid in group if is_alive(pid)] == []


def test_the_flows_page_sees_every_service_down_when_the_supervisor_is_gone(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    dead.wait()
    write_state(
        state_file(tmp_path),
        State(dead.pid, "t.", [ServiceStatus("api", state="running", pid=dead.pid, restarts=2)]),
    )
    view = services_view(tmp_path)
    assert view["services"] == [
        {"name": "api", "state": "down", "restarts": 2, "pid": None, "started_at": None,
         "last_exit": None, "metrics_url": None},
    ]  # fmt: skip
    assert services_view(tmp_path / "elsewhere") == {"supervised": False, "services": []}
