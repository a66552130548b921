"""Where the tests get their real Kafka and Redis: the project's local stack by default, or
testcontainers when MLOPS_FC_TEST_BACKEND=testcontainers and a Docker engine is reachable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.local import LocalStack
from devstack.processes import free_port
from stack.settings import Settings

BACKEND_VARIABLE = "MLOPS_FC_TEST_BACKEND"


def local_stack_settings(state_dir: Path) -> Settings:
    """Settings for a private stack: its own folder and free ports, no Redis persistence."""
    return Settings(
        environment="test",
        state_dir=state_dir,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_libs_dir=Settings().kafka_jars_dir,  # reuse the jars setup.sh fetched
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        redis_persistence=False,
        mlflow_tracking_uri=None,
        worker_metrics_port=0,  # workers of a test get a free port each (tests.flow_helpers)
    )


@contextmanager
def running_stack(state_dir: Path) -> Iterator[Settings]:
    if os.environ.get(BACKEND_VARIABLE, "local") == "testcontainers":
        with _testcontainers_stack(state_dir) as settings:
            yield settings
        return
    settings = local_stack_settings(state_dir)
    stack = LocalStack(settings)
    try:
        stack.up()
        yield settings
    finally:
        stack.down()


@contextmanager
def _testcontainers_stack(state_dir: Path) -> Iterator[Settings]:
    # Imported lazily: testcontainers needs a Docker engine, which these machines don't run.
    from testcontainers.kafka import KafkaContainer
    from testcontainers.redis import RedisContainer

    with (
        KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka,
        RedisContainer("redis:7.4.2-alpine") as redis,
    ):
        host = redis.get_container_host_ip()
        port = redis.get_exposed_port(6379)
        yield Settings(
            environment="test",
            state_dir=state_dir,
            kafka_bootstrap_servers=kafka.get_bootstrap_server(),
            redis_url=f"redis://{host}:{port}/0",
            redis_persistence=False,
        )
