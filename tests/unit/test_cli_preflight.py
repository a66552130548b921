"""Commands that need Kafka say so in one line when it does not answer, instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cli.preflight import KAFKA_UNREACHABLE_EXIT
from devstack.processes import free_port

NEEDS_KAFKA = [
    ["worker"],
    ["ingest", "synthetic", "--seasons", "2020"],
    ["subscribe", "predictions.results"],
    ["predict", "--player-id", "p1", "--position", "Centre-Forward", "--from-club", "A",
     "--to-club", "B", "--season", "2024", "--window", "summer"],
    ["stack", "topics"],
]  # fmt: skip


@pytest.mark.parametrize("command", NEEDS_KAFKA, ids=lambda c: " ".join(c[:2]))
def test_a_stopped_broker_is_one_clear_line(command: list[str]) -> None:
    nobody = f"127.0.0.1:{free_port()}"  # a port nothing listens on
    env = {**os.environ, "MLOPS_FC_KAFKA_BOOTSTRAP_SERVERS": nobody, "COLUMNS": "400"}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *command], env=env, capture_output=True, timeout=120
    )
    stderr = done.stderr.decode()
    assert done.returncode == KAFKA_UNREACHABLE_EXIT, stderr
    assert f"Kafka does not answer at {nobody}" in stderr and "mlops-fc stack up" in stderr
    assert "Traceback" not in stderr and "rdkafka" not in stderr
