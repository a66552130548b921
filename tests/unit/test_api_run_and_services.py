"""/v1/services (what `mlops-fc up` supervises) and /v1/run (the main job's MAE per window)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stack.settings import Settings
from stack.supervised import (
    ServiceStatus,
    SupervisorState,
    run_progress_file,
    state_file,
    write_json,
    write_state,
)
from tests.api_fakes import fake_build


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path, topic_prefix="run-a.")  # type: ignore[call-arg]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, fake_build())) as client:
        yield client


def test_services_read_the_supervisor_state(client: TestClient, settings: Settings) -> None:
    assert client.get("/v1/services").json() == {"supervised": False, "services": []}
    services = [ServiceStatus("monitor", "running", 11, 0), ServiceStatus("worker-1", "restarting", None, 3)]
    write_state(state_file(settings.state_dir), SupervisorState(os.getpid(), "run-a.", services))
    shown = client.get("/v1/services").json()
    assert shown["supervised"] is True
    assert [(s["name"], s["state"], s["restarts"]) for s in shown["services"]] == [
        ("monitor", "running", 0),
        ("worker-1", "restarting", 3),
    ]


def test_run_shows_only_the_job_of_this_namespace(client: TestClient, settings: Settings) -> None:
    assert client.get("/v1/run").json()["windows"] == []
    progress = run_progress_file(settings.state_dir)
    write_json(progress, {"prefix": "run-b.", "windows": [{"index": 1}], "events": []})
    assert client.get("/v1/run").json()["windows"] == []
    write_json(
        progress, {"prefix": "run-a.", "windows": [{"index": 1}], "events": [{"event_type": "ModelPromoted"}]}
    )
    body = client.get("/v1/run").json()
    assert body["windows"] == [{"index": 1}] and body["events"] == [{"event_type": "ModelPromoted"}]
