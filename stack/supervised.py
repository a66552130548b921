"""The state files of `mlops-fc up`'s supervisor (which service runs, restarts, is down) and of the main job.

The supervisor (devstack) writes it, the REST facade's /v1/services and `mlops-fc ps` read
it; both only know this module, so the api never imports the launcher.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from stack.pids import is_alive

ServiceState = Literal["starting", "running", "restarting", "down"]


def up_dir(state_dir: Path) -> Path:
    """Where `mlops-fc up` keeps its spec, pid files, state file and service logs."""
    return state_dir / "up"


def state_file(state_dir: Path) -> Path:
    return up_dir(state_dir) / "services.json"


def run_progress_file(state_dir: Path) -> Path:
    """The main job's progress (MAE per window so far), written by `mlops-fc run` for /v1/run."""
    return state_dir / "run" / "progress.json"


@dataclass
class ServiceStatus:
    name: str
    state: ServiceState = "starting"
    pid: int | None = None
    restarts: int = 0
    started_at: float | None = None
    last_exit: int | None = None  # exit code (negative: the signal) of the last run
    log: str = ""
    metrics_url: str | None = None


@dataclass
class SupervisorState:
    supervisor_pid: int
    topic_prefix: str
    services: list[ServiceStatus] = field(default_factory=list)
    updated_at: float = 0.0
    stopping: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def write_json(path: Path, body: object) -> None:
    """Atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(body, indent=1, default=str))
    partial.replace(path)


def read_json(path: Path) -> dict[str, object] | None:
    """A JSON object written by ``write_json``, or None when absent or unreadable."""
    try:
        loaded = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def write_state(path: Path, state: SupervisorState) -> None:
    write_json(path, state.as_dict())


def read_state(path: Path) -> SupervisorState | None:
    """The last state written, or None when `up` never ran or the file is unreadable."""
    try:
        raw = json.loads(path.read_text())
        services = [ServiceStatus(**s) for s in raw.pop("services")]
        return SupervisorState(services=services, **raw)
    except (FileNotFoundError, ValueError, TypeError, KeyError):
        return None


def services_view(state_dir: Path) -> dict[str, object]:
    """What the flows page shows of the supervised services; all down if the supervisor died."""
    state = read_state(state_file(state_dir))
    if state is None:
        return {"supervised": False, "services": []}
    alive = is_alive(state.supervisor_pid) and not state.stopping
    services = [
        {
            "name": s.name,
            "state": s.state if alive else "down",
            "restarts": s.restarts,
            "pid": s.pid if alive else None,
            "started_at": s.started_at,
            "last_exit": s.last_exit,
            "metrics_url": s.metrics_url,
        }
        for s in state.services
    ]
    return {
        "supervised": True,
        "topic_prefix": state.topic_prefix,
        "updated_at": state.updated_at,
        "services": services,
    }
