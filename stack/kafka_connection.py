"""The one Kafka connection config: where the brokers are and how to authenticate to them.

Built once from settings and handed to every client the project makes: confluent-kafka
producers, consumers and admin clients (``confluent()``), aiokafka (``aiokafka()``) and Faust
(``faust_broker()`` plus the worker's credentials adapter over ``ssl_context()``). This is the
only module that reads ``kafka_bootstrap_servers`` and the security settings
(tests/unit/test_kafka_connection.py greps for it), so a managed Kafka with TLS and SASL
needs settings only, never code.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from confluent_kafka import KafkaError
from pydantic import SecretStr

from stack.exceptions import StackError
from stack.settings import Settings

log = logging.getLogger(__name__)
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
SASL_SETTINGS = "MLOPS_FC_KAFKA_SASL_USERNAME / MLOPS_FC_KAFKA_SASL_PASSWORD"
TLS_SETTINGS = "MLOPS_FC_KAFKA_SSL_CA_FILE (and MLOPS_FC_KAFKA_SSL_CERT_FILE / _KEY_FILE)"


class KafkaAuthenticationError(StackError):
    """The brokers refused this client's credentials or certificate."""


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaConnection:
        return cls(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            ca_file=settings.kafka_ssl_ca_file,
            cert_file=settings.kafka_ssl_cert_file,
            key_file=settings.kafka_ssl_key_file,
        )

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def servers(self) -> list[str]:
        return [server.strip() for server in self.bootstrap_servers.split(",") if server.strip()]

    def describe(self) -> str:
        """Where and how, for logs and error messages (never the password)."""
        who = f" as {self.username} ({self.sasl_mechanism})" if self.uses_sasl else ""
        return f"{self.bootstrap_servers} over {self.security_protocol}{who}"

    # confluent-kafka (librdkafka) ---------------------------------------------------------

    def confluent(self, **overrides: Any) -> dict[str, Any]:
        """A librdkafka config: servers, security and an error callback naming the setting to fix."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol.lower(),
            "error_cb": self._report_error,
        }
        if self.uses_sasl:
            config["sasl.mechanisms"] = self.sasl_mechanism
            config["sasl.username"] = self.username or ""
            config["sasl.password"] = self.password.get_secret_value() if self.password else ""
        if self.uses_tls:
            if self.ca_file is not None:
                config["ssl.ca.location"] = str(self.ca_file)
            if self.cert_file is not None and self.key_file is not None:
                config["ssl.certificate.location"] = str(self.cert_file)
                config["ssl.key.location"] = str(self.key_file)
        config.update(overrides)
        return config

    def _report_error(self, error: KafkaError) -> None:
        hint = self.refusal_hint(error)
        if hint is not None:
            log.error("%s", hint)
        elif error.fatal():
            log.error("Kafka client error: %s", error)
        else:
            # Brokers down or restarting: librdkafka reconnects on its own.
            log.debug("Kafka client error (retried): %s", error)

    def refusal_hint(self, error: KafkaError) -> str | None:
        """A clear message when ``error`` is a refused login or TLS handshake, else None."""
        if error.code() == KafkaError._AUTHENTICATION:
            return (
                f"Kafka refused the login to {self.describe()}: {error.str()}; "
                f"check {SASL_SETTINGS if self.uses_sasl else TLS_SETTINGS}"
            )
        if error.code() == KafkaError._SSL:
            return f"TLS handshake with {self.bootstrap_servers} failed: {error.str()}; check {TLS_SETTINGS}"
        return None

    # aiokafka and Faust ---------------------------------------------------------------------

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaConsumer / AIOKafkaProducer / AIOKafkaAdminClient."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.servers,
            "security_protocol": self.security_protocol,
        }
        if self.uses_sasl:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.username
            kwargs["sasl_plain_password"] = self.password.get_secret_value() if self.password else None
        if self.uses_tls:
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs

    def faust_broker(self) -> str:
        """Faust's broker URL list (``kafka://a:9092;kafka://b:9092``)."""
        return ";".join(f"kafka://{server}" for server in self.servers)

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context aiokafka and Faust use: the CA file (or system CAs) and a client cert."""
        context = ssl.create_default_context(
            purpose=ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_file) if self.ca_file else None
        )
        if self.cert_file is not None and self.key_file is not None:
            context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


def kafka_connection(settings: Settings) -> KafkaConnection:
    """The connection config of these settings."""
    return KafkaConnection.from_settings(settings)
