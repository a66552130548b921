"""A minimal Faust app consumes from one topic and produces to another on the real broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stack.kafka_clients import make_producer
from stack.kafka_connection import kafka_connection
from stack.settings import Settings
from tests.kafka_helpers import consume_until, create_topic

pytestmark = pytest.mark.integration
COUNT = 500


def test_faust_app_echoes_through_real_broker(stack_settings: Settings, unique: str, tmp_path: Path) -> None:
    source = create_topic(stack_settings, f"echo-in-{unique}", 1)
    sink = create_topic(stack_settings, f"echo-out-{unique}", 1)
    env = {
        **os.environ,
        "ECHO_APP_ID": f"echo-{unique}",
        "ECHO_BOOTSTRAP": kafka_connection(stack_settings).bootstrap_servers,
        "ECHO_DATADIR": str(tmp_path / "faust"),
        "ECHO_SOURCE": source,
        "ECHO_SINK": sink,
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.faust_echo_app", "worker", "-l", "warn"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).parents[2],
    )
    try:
        producer = make_producer(stack_settings)
        for i in range(COUNT):
            producer.produce(source, key=f"k{i}".encode(), value=f"message {i}".encode())
        assert producer.flush(30) == 0

        echoed = consume_until(
            stack_settings, sink, lambda got: len(got) >= COUNT or worker.poll() is not None, timeout=120
        )
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        assert sorted(m.value() or b"" for m in echoed) == sorted(
            f"MESSAGE {i}".encode() for i in range(COUNT)
        )
        assert {m.key() for m in echoed} == {f"k{i}".encode() for i in range(COUNT)}
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
