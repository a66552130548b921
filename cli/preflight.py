"""Check that Kafka answers before a command starts, so a stopped stack is one clear line.

Without it, librdkafka logs a refused connection every 50 ms and the command ends in a
traceback (Faust's worker, the ingesters, subscribe) after its own timeout.
"""

from __future__ import annotations

import typer

from stack.kafka_clients import kafka_refusal
from stack.settings import Settings

KAFKA_UNREACHABLE_EXIT = 3
PROBE_TIMEOUT_S = 5.0


def require_kafka(settings: Settings, timeout_s: float = PROBE_TIMEOUT_S) -> Settings:
    """Return ``settings`` once a metadata request is answered; exit 3 with the fix otherwise."""
    refusal = kafka_refusal(settings, timeout=timeout_s)
    if refusal is None:
        return settings
    hint = (
        ""
        if "refused" in refusal or "TLS" in refusal
        else (" Start the local stack with `mlops-fc stack up`, or point that setting at your cluster.")
    )
    typer.secho(f"error: {refusal}.{hint}", err=True, fg=typer.colors.RED)
    raise typer.Exit(KAFKA_UNREACHABLE_EXIT)
