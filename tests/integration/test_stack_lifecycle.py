"""`mlops-fc stack up | status | down` on a private stack, through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.kafka_broker import KafkaBroker
from devstack.processes import is_alive, stop
from devstack.redis_server import RedisServer
from stack.kafka_connection import kafka_connection
from tests.stack_fixtures import local_stack_settings

pytestmark = pytest.mark.integration


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "stack", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=180,
        cwd=Path(__file__).parents[2],
        check=False,
    )


def test_up_is_idempotent_status_reports_down_and_down_leaves_nothing(tmp_path: Path) -> None:
    settings = local_stack_settings(tmp_path / "state")
    env = {
        **os.environ,
        "COLUMNS": "200",
        "MLOPS_FC_STATE_DIR": str(settings.state_dir),
        "MLOPS_FC_KAFKA_BOOTSTRAP_SERVERS": kafka_connection(settings).bootstrap_servers,
        "MLOPS_FC_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "MLOPS_FC_KAFKA_LIBS_DIR": str(settings.kafka_jars_dir),
        "MLOPS_FC_REDIS_URL": settings.redis_url,
    }
    kafka, redis = KafkaBroker(settings), RedisServer(settings)
    try:
        first = _cli(env, "up")
        assert first.returncode == 0, first.stdout + first.stderr
        pids = (kafka.running_pid(), redis.running_pid())
        assert None not in pids

        second = _cli(env, "up")
        assert second.returncode == 0, second.stdout + second.stderr
        assert (kafka.running_pid(), redis.running_pid()) == pids, "a second `up` restarted something"
        assert "created" not in second.stdout, "topics were created twice"

        healthy = _cli(env, "status")
        assert healthy.returncode == 0
        assert kafka_connection(settings).bootstrap_servers in healthy.stdout

        # Stop only the broker: status must call it down and fail.
        assert stop(kafka.pid_file)
        broken = _cli(env, "status")
        assert broken.returncode == 1
        kafka_line = next(line for line in broken.stdout.splitlines() if "kafka" in line)
        assert "down" in kafka_line

        down = _cli(env, "down")
        assert down.returncode == 0, down.stderr
        assert not any(is_alive(pid) for pid in pids if pid)
        assert not _processes_mentioning(str(settings.state_dir))
    finally:
        kafka.down()
        redis.down()


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline and int(proc.name) != os.getpid():
                found.append(int(proc.name))
    return found
