"""A service killed under `mlops-fc up` comes back: the supervisor restarts it, `ps` counts the
restart, and every request published meanwhile is answered."""

from __future__ import annotations

import os
import shutil
import signal
import uuid

import pytest

from devstack.local import LocalStack
from devstack.up import down, status, up
from retrainer.initial import train_initial
from schemas.topics import TRANSFERS_COMPLETED
from stack.settings import Settings
from tests.api_helpers import wait_until
from tests.api_stack import HISTORY
from tests.flow_helpers import collecting, publish
from tests.up_helpers import kcat_publish, log_of, request, supervised_pids, up_settings

pytestmark = pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat missing: run scripts/setup.sh")
RESTART_S = 240.0
ANSWER_S = 240.0


def _restarted(settings: Settings, name: str, old_pid: int) -> bool:
    rows, _ = status(settings)
    row = next(r for r in rows if r.name == name)
    return row.restarts == 1 and row.pid not in (None, old_pid) and all(r.ready for r in rows)


def test_killed_monitor_then_worker_restart_and_every_request_is_answered(
    private_stack: tuple[LocalStack, Settings],
) -> None:
    settings = up_settings(private_stack[1])
    try:
        up(settings, workers=2)
        publish(settings, TRANSFERS_COMPLETED, HISTORY)
        train_initial(settings, transfers=HISTORY)
        asked: list[str] = []
        with collecting(settings) as results:
            for victim in ("monitor", "worker-1"):
                pid = supervised_pids(settings)[victim]
                os.kill(pid, signal.SIGKILL)
                batch = [request(f"{victim}-{uuid.uuid4()}", player=f"p7-{i % 40}") for i in range(40)]
                kcat_publish(settings, batch)  # published while the victim is down or restarting
                asked += [str(r["request_id"]) for r in batch]
                assert wait_until(lambda v=victim, p=pid: _restarted(settings, v, p), RESTART_S), (
                    status(settings),
                    log_of(settings, victim),
                )
            missing = results.wait_for_ids(asked, ANSWER_S)
            assert not missing, f"{len(missing)} unanswered\n{log_of(settings, 'worker-2')}"
            statuses = {r.status for rid in asked for r in results.results[rid]}
            assert statuses == {"ok"}
        rows, _ = status(settings)
        assert {r.name: r.restarts for r in rows} == {
            "monitor": 1, "retrainer": 0, "worker-1": 1, "worker-2": 0, "sink": 0, "api": 0,
        }  # fmt: skip
    finally:
        down(settings)
