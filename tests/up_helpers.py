"""Helpers for tests of `mlops-fc up`: settings of a test stack, kcat requests, process checks."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

from devstack.processes import free_port, is_alive
from stack.kafka_connection import kafka_connection
from stack.settings import Settings
from stack.supervised import read_state, state_file, up_dir


def up_settings(stack: Settings) -> Settings:
    """The test stack's settings with a free api port, quick restarts and a fresh namespace."""
    return stack.model_copy(
        update={
            "topic_prefix": f"u{uuid.uuid4().hex[:8]}.",
            "api_port": free_port(),
            "worker_metrics_port": 0,  # `up` picks a free port per worker
            "up_restart_backoff_max_s": 2.0,
            "up_ready_timeout_s": 240.0,
        }
    )


def request(request_id: str, player: str = "p7-4") -> dict[str, object]:
    """A PredictionRequest as a user of another language writes it: the JSON Schema's fields."""
    return {
        "event_type": "PredictionRequest",
        "schema_version": 2,
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2030-01-01T00:00:00Z",
        "source": "kcat",
        "trace_id": str(uuid.uuid4()),
        "request_id": request_id,
        "player_id": player,
        "position": "Centre-Back",
        "from_club": "Club 01",
        "to_club": "Club 06",
        "season": 2013,
        "window": "winter",
        "requested_at": "2030-01-01T00:00:00Z",
    }


def kcat_publish(settings: Settings, requests: list[dict[str, object]]) -> None:
    lines = "".join(f"{r['player_id']}|{json.dumps(r)}\n" for r in requests)
    topic = settings.topic("predictions.requests")
    argv = ["kcat", "-P", "-b", kafka_connection(settings).bootstrap_servers, "-t", topic, "-K", "|"]
    subprocess.run(argv, input=lines.encode(), check=True, timeout=60)  # noqa: S603


def supervised_pids(settings: Settings) -> dict[str, int]:
    """Service name -> pid of every service the supervisor runs now, and the supervisor's own."""
    state = read_state(state_file(settings.state_dir))
    pids = {s.name: s.pid for s in state.services if s.pid is not None} if state else {}
    supervisor = up_dir(settings.state_dir) / "supervisor.pid"
    if supervisor.exists():
        pids["supervisor"] = int(supervisor.read_text())
    return pids


def alive(pids: dict[str, int]) -> list[str]:
    return sorted(name for name, pid in pids.items() if is_alive(pid))


def log_of(settings: Settings, service: str) -> str:
    path: Path = up_dir(settings.state_dir) / "logs" / f"{service}.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"
