"""A real single-node Apache Kafka broker in KRaft mode (broker + controller), run from its jars."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from devstack.kafka_jars import ensure_kafka_jars
from devstack.processes import ensure_port_free, read_pid, require_ready, spawn, stop
from stack.exceptions import PrerequisiteMissing, StackError
from stack.kafka_clients import metadata_ok
from stack.kafka_connection import kafka_connection
from stack.settings import Settings

LOG4J_CONFIG = Path(__file__).resolve().parent / "kafka" / "log4j2.properties"
STORAGE_TOOL = "kafka.tools.StorageTool"
BROKER_MAIN = "kafka.Kafka"


@dataclass(frozen=True)
class SecureListener:
    """A SASL_SSL client listener for the local broker (tests of TLS and SCRAM logins).

    Clients use the settings' port over SASL_SSL with SCRAM users created at format time
    (``kafka-storage format --add-scram``); the broker talks to itself over a PLAINTEXT
    listener on ``internal_port``, bound to the same loopback host.
    """

    keystore: Path  # PKCS12 with the broker's key and certificate
    keystore_password: str
    internal_port: int
    users: dict[str, str]  # name -> password
    mechanism: str = "SCRAM-SHA-512"

    def properties(self, host: str, port: int, controller: str) -> dict[str, str]:
        return {
            "listeners": (
                f"SASL_SSL://{host}:{port},INTERNAL://{host}:{self.internal_port},CONTROLLER://{controller}"
            ),
            "advertised.listeners": f"SASL_SSL://{host}:{port},INTERNAL://{host}:{self.internal_port}",
            "inter.broker.listener.name": "INTERNAL",
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": self.mechanism,
            f"listener.name.sasl_ssl.{self.mechanism.lower()}.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(self.keystore),
            "ssl.keystore.password": self.keystore_password,
            "ssl.key.password": self.keystore_password,
        }

    def format_arguments(self) -> list[str]:
        arguments = []
        for name, password in self.users.items():
            arguments += ["--add-scram", f"{self.mechanism}=[name={name},password={password}]"]
        return arguments


@dataclass(frozen=True)
class KafkaBroker:
    """The local broker described by the settings; files live under ``<state_dir>/kafka``."""

    settings: Settings
    secure: SecureListener | None = None  # None: one PLAINTEXT listener

    @property
    def home(self) -> Path:
        return self.settings.state_dir / "kafka"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.log"

    @property
    def host_port(self) -> tuple[str, int]:
        first = kafka_connection(self.settings).servers[0]
        host, _, port = first.rpartition(":")
        return host or "127.0.0.1", int(port)

    def running_pid(self) -> int | None:
        return read_pid(self.pid_file)

    def is_healthy(self, timeout: float = 2.0) -> bool:
        """Ready means a metadata request succeeds and names at least one broker."""
        return metadata_ok(self.settings, timeout)

    def up(self, timeout: float = 90.0) -> None:
        if self.running_pid() is not None:
            require_ready(self.is_healthy, timeout, "Kafka", self.log_file)
            return
        host, port = self.host_port
        ensure_port_free(host, port, "Kafka", "MLOPS_FC_KAFKA_BOOTSTRAP_SERVERS")
        ensure_port_free(
            host,
            self.settings.kafka_controller_port,
            "The Kafka controller",
            "MLOPS_FC_KAFKA_CONTROLLER_PORT",
        )
        if self.secure is not None:
            ensure_port_free(host, self.secure.internal_port, "The broker's internal listener", "-")
        java = _java()
        classpath = f"{ensure_kafka_jars(self.settings.kafka_jars_dir)}/*"
        properties = self._write_properties(host, port)
        if not (self.data_dir / "meta.properties").exists():
            self._format(java, classpath, properties)
        spawn(
            [
                java,
                f"-Xmx{self.settings.kafka_heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
                "-cp",
                classpath,
                BROKER_MAIN,
                str(properties),
            ],
            self.pid_file,
            self.log_file,
        )
        require_ready(self.is_healthy, timeout, "Kafka", self.log_file)

    def down(self) -> bool:
        return stop(self.pid_file, grace_seconds=30.0)

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def _write_properties(self, host: str, port: int) -> Path:
        controller = f"{host}:{self.settings.kafka_controller_port}"
        lines = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{host}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir.resolve()),
            "num.partitions": str(self.settings.topic_partitions),
            # A single node: every internal topic has one replica.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Consumers join at once instead of waiting 3 s for more members.
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
        }
        if self.secure is not None:
            lines |= self.secure.properties(host, port, controller)
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in lines.items()))
        return path

    def _format(self, java: str, classpath: str, properties: Path) -> None:
        tool = [java, f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", "-cp", classpath, STORAGE_TOOL]
        result = subprocess.run(  # noqa: S603 - argv is built here
            [
                *tool,
                *format_arguments(_cluster_id(), properties),
                *(self.secure.format_arguments() if self.secure is not None else []),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"Formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


def format_arguments(cluster_id: str, properties: Path) -> list[str]:
    """The arguments of ``kafka-storage`` that format a fresh single-node data folder."""
    return ["format", "-t", cluster_id, "-c", str(properties), "--standalone", "--ignore-formatted"]


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise PrerequisiteMissing("Java 17 is needed to run Kafka: apt-get install openjdk-17-jre-headless")
    return java


def _cluster_id() -> str:
    """16 random bytes in URL-safe base64 without padding, like Kafka's own ``Uuid.randomUuid``.

    One id in 64 starts with ``-``, which ``kafka-storage format -t`` reads as an option (a
    fresh stack then fails to start); Kafka draws again in that case, and so does this.
    """
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate
