"""`mlops-fc up` on a private real stack: every service ready, a kcat request answered, a
second `up` changes nothing, `down` leaves no process behind."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from devstack.local import LocalStack
from devstack.up import down, status, up
from retrainer.initial import train_initial
from schemas.topics import TRANSFERS_COMPLETED
from stack.settings import PROJECT_ROOT, Settings
from tests.api_helpers import wait_until
from tests.api_stack import HISTORY
from tests.flow_helpers import publish
from tests.stack_fixtures import local_stack_settings
from tests.up_helpers import alive, kcat_publish, request, supervised_pids, up_settings

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat missing: run scripts/setup.sh"),
]
ANSWER_S = 180.0


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    from devstack.services import settings_env

    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=settings_env(settings),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_up_ps_kcat_up_again_down(tmp_path: Path) -> None:
    settings = up_settings(local_stack_settings(tmp_path / "stack"))
    stack_pids: dict[str, int] = {}
    try:
        first = up(settings, workers=2)
        assert not first.already_up
        assert [r.name for r in first.rows] == ["monitor", "retrainer", "worker-1", "worker-2", "sink", "api"]
        assert all(r.ready for r in first.rows), first.rows
        assert first.model_version is None  # nothing trained yet: `up` says so, it does not wait
        stack_pids = {"kafka": LocalStack(settings).kafka.running_pid() or 0}
        stack_pids["redis"] = LocalStack(settings).redis.running_pid() or 0

        shown = _cli(settings, "ps")
        assert shown.returncode == 0, shown.stdout + shown.stderr
        for name in ("monitor", "retrainer", "worker-1", "worker-2", "sink", "api"):
            assert name in shown.stdout

        publish(settings, TRANSFERS_COMPLETED, HISTORY)
        train_initial(settings, transfers=HISTORY)
        request_id = f"kcat-{uuid.uuid4()}"
        kcat_publish(settings, [request(request_id)])
        api = f"http://127.0.0.1:{settings.api_port}"
        assert wait_until(
            lambda: httpx.get(f"{api}/v1/predictions/{request_id}", timeout=10).status_code == 200, ANSWER_S
        ), httpx.get(f"{api}/v1/predictions/{request_id}", timeout=10).text
        assert httpx.get(f"{api}/v1/predictions/{request_id}", timeout=10).json()["status"] == "ok"

        pids = supervised_pids(settings)
        again = up(settings, workers=2)
        assert again.already_up
        assert supervised_pids(settings) == pids  # nothing restarted
        assert again.model_version == "1"
        services = httpx.get(f"{api}/v1/services", timeout=10).json()
        assert {s["name"]: s["state"] for s in services["services"]} == dict.fromkeys(
            pids.keys() - {"supervisor"}, "running"
        )
    finally:
        pids = supervised_pids(settings)
        stopped = down(settings)
    assert "services" in stopped and "kafka" in stopped
    assert len(pids) == 7  # six services and the supervisor
    assert alive({**pids, **stack_pids}) == []
    assert status(settings) == ([], None)
