"""The whole local stack (Kafka, Redis, MLflow) as one object: the CLI and the tests share it."""

from __future__ import annotations

from dataclasses import dataclass, field

from devstack.kafka_broker import KafkaBroker
from devstack.mlflow_local import LocalMlflow
from devstack.redis_server import RedisServer
from stack.kafka_connection import kafka_connection
from stack.settings import Settings


@dataclass(frozen=True)
class PartStatus:
    name: str
    address: str
    healthy: bool
    detail: str


@dataclass
class LocalStack:
    settings: Settings
    kafka: KafkaBroker = field(init=False)
    redis: RedisServer = field(init=False)
    mlflow: LocalMlflow = field(init=False)

    def __post_init__(self) -> None:
        self.kafka = KafkaBroker(self.settings)
        self.redis = RedisServer(self.settings)
        self.mlflow = LocalMlflow(self.settings)

    def up(self) -> None:
        """Start what is not running yet; a second call finds everything up and does nothing."""
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.redis.up()
        self.kafka.up()
        self.mlflow.up()

    def down(self) -> list[str]:
        """Stop Kafka and Redis; returns the names of the parts that were running."""
        stopped = []
        if self.kafka.down():
            stopped.append("kafka")
        if self.redis.down():
            stopped.append("redis")
        return stopped

    def status(self) -> list[PartStatus]:
        kafka_pid = self.kafka.running_pid()
        redis_pid = self.redis.running_pid()
        return [
            PartStatus(
                "kafka",
                kafka_connection(self.settings).bootstrap_servers,
                self.kafka.is_healthy(),
                f"pid {kafka_pid}" if kafka_pid else "no local broker process",
            ),
            PartStatus(
                "redis",
                self.settings.redis_url,
                self.redis.is_healthy(),
                f"pid {redis_pid}" if redis_pid else "no local redis process",
            ),
            PartStatus(
                "mlflow",
                self.settings.mlflow_uri,
                self.mlflow.is_healthy(),
                f"artifacts in {self.settings.mlflow_artifacts}",
            ),
        ]
