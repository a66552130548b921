"""`mlops-fc worker`: run an inference worker (Faust)."""

from __future__ import annotations

import socket

import typer

from cli.preflight import require_kafka
from stack.settings import Settings


def worker(
    name: str | None = typer.Option(
        None,
        envvar="MLOPS_FC_WORKER_NAME",
        help=(
            "This worker's name: its local data folder, its static group membership and its "
            "heartbeat. Unique per worker. Default: the host name, which is unique per container "
            "or pod, so `docker compose --scale worker=N` and Kubernetes replicas need nothing."
        ),
        show_default=False,
    ),
    loglevel: str = typer.Option("warn", help="Faust log level: crit, error, warn, info or debug."),
    metrics_port: int | None = typer.Option(
        None,
        min=0,
        max=65535,
        help="Port of this worker's Prometheus /metrics (default: MLOPS_FC_WORKER_METRICS_PORT); 0: none.",
        show_default=False,
    ),
) -> None:
    """Score prediction requests with the current model until stopped (Ctrl-C / SIGTERM).

    Reads players.records and transfers.completed into feature state, scores
    predictions.requests in micro-batches and writes one result per request to
    predictions.results. Start several with different --name values (and --metrics-port
    values on one machine): they share the work. The model comes from Redis and is
    hot-swapped on models.lifecycle events.
    """
    from inference.bootstrap import run_worker
    from inference.metrics import MetricsPortInUse

    settings = require_kafka(Settings())
    if metrics_port is not None:
        settings = settings.model_copy(update={"worker_metrics_port": metrics_port})
    try:
        # Two workers with one name would fence each other out of the group (static membership).
        run_worker(settings, name=name or socket.gethostname(), loglevel=loglevel)
    except MetricsPortInUse as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
