"""Faust's credentials from the project's one Kafka connection config (stack/kafka_connection.py).

stack/ may not import Faust, so this adapter lives with the worker: it turns the connection's
SASL user and TLS context into the ``broker_credentials`` object Faust hands to aiokafka.
"""

from __future__ import annotations

import faust
from faust.types.auth import CredentialsT

from stack.kafka_connection import KafkaConnection


def faust_credentials(connection: KafkaConnection) -> CredentialsT | None:
    """SASLCredentials (with TLS for SASL_SSL), SSLCredentials, or None for PLAINTEXT."""
    if connection.uses_sasl:
        return faust.SASLCredentials(
            username=connection.username,
            password=connection.password.get_secret_value() if connection.password else None,
            ssl_context=connection.ssl_context() if connection.uses_tls else None,
            mechanism=connection.sasl_mechanism,
        )
    if connection.uses_tls:
        return faust.SSLCredentials(connection.ssl_context())
    return None
