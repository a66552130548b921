"""The one Kafka connection config: every client's settings come from it, and only from it."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from stack.kafka_connection import KafkaConnection, kafka_connection
from stack.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "api",
    "bench",
    "cli",
    "consumers",
    "demo",
    "devstack",
    "features",
    "inference",
    "modelstore",
    "monitoring",
    "producers",
    "retrainer",
    "schemas",
    "stack",
    "tests",
)
OWNERS = {"stack/kafka_connection.py", "stack/settings.py"}
READ = re.compile(r"\.kafka_(bootstrap_servers|security_protocol|sasl_\w+|ssl_\w+_file)\b")  # attribute reads


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_only_the_connection_layer_reads_the_kafka_settings() -> None:
    readers = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if relative in OWNERS or relative == "tests/unit/test_kafka_connection.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if READ.search(line):
                    readers.append(f"{relative}:{number}: {line.strip()}")
    assert not readers, "go through stack.kafka_connection instead:\n" + "\n".join(readers)


def test_the_check_finds_a_reader() -> None:
    assert READ.search("AdminClient({'bootstrap.servers': settings.kafka_bootstrap_servers})")
    assert READ.search("settings.kafka_sasl_password")


def test_plaintext_is_the_default_and_carries_no_credentials() -> None:
    connection = kafka_connection(_settings(kafka_bootstrap_servers="a:1,b:2"))
    config = connection.confluent()
    assert config["bootstrap.servers"] == "a:1,b:2" and config["security.protocol"] == "plaintext"
    assert not any(name.startswith(("sasl.", "ssl.")) for name in config)
    assert connection.aiokafka() == {"bootstrap_servers": ["a:1", "b:2"], "security_protocol": "PLAINTEXT"}
    assert connection.faust_broker() == "kafka://a:1;kafka://b:2"


def test_sasl_ssl_feeds_librdkafka_and_aiokafka(tmp_path: Path) -> None:
    ca = _self_signed_ca(tmp_path)
    connection = kafka_connection(
        _settings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username="svc",
            kafka_sasl_password=SecretStr("s3cret"),
            kafka_ssl_ca_file=ca,
        )
    )
    config = connection.confluent(**{"group.id": "g"})
    assert config["security.protocol"] == "sasl_ssl" and config["sasl.mechanisms"] == "SCRAM-SHA-512"
    assert (config["sasl.username"], config["sasl.password"]) == ("svc", "s3cret")
    assert config["ssl.ca.location"] == str(ca) and config["group.id"] == "g"
    kwargs = connection.aiokafka()
    assert kwargs["security_protocol"] == "SASL_SSL" and kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "svc" and kwargs["sasl_plain_password"] == "s3cret"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert "s3cret" not in connection.describe() and "svc" in connection.describe()


def test_sasl_without_credentials_names_the_settings() -> None:
    with pytest.raises(
        ValidationError, match="MLOPS_FC_KAFKA_SASL_USERNAME and MLOPS_FC_KAFKA_SASL_PASSWORD"
    ):
        _settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="svc")


def test_a_client_cert_needs_its_key() -> None:
    with pytest.raises(ValidationError, match="MLOPS_FC_KAFKA_SSL_KEY_FILE"):
        _settings(kafka_security_protocol="SSL", kafka_ssl_cert_file=Path("/x.pem"))


def test_an_unknown_mechanism_is_refused() -> None:
    with pytest.raises(ValidationError):
        _settings(kafka_sasl_mechanism="GSSAPI")


def test_a_refused_login_says_which_settings_to_fix() -> None:
    from confluent_kafka import KafkaError

    connection = KafkaConnection("h:1", "SASL_SSL", "SCRAM-SHA-512", "svc", SecretStr("x"))
    hint = connection.refusal_hint(KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error"))
    assert hint is not None and "MLOPS_FC_KAFKA_SASL_PASSWORD" in hint and "svc" in hint
    assert connection.refusal_hint(KafkaError(KafkaError._TRANSPORT)) is None


def _self_signed_ca(folder: Path) -> Path:
    from tests.tls import make_ca

    return make_ca(folder).cert_file
