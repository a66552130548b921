"""`mlops-fc worker`: run an inference worker (Faust)."""

from __future__ import annotations

import typer

from stack.settings import Settings


def worker(
    name: str = typer.Option(
        "worker-1",
        envvar="MLOPS_FC_WORKER_NAME",
        help="This worker's name: its local data folder. Unique per worker on one machine.",
    ),
    loglevel: str = typer.Option("warn", help="Faust log level: crit, error, warn, info or debug."),
) -> None:
    """Score prediction requests with the current model until stopped (Ctrl-C / SIGTERM).

    Reads players.records and transfers.completed into feature state, scores
    predictions.requests in micro-batches and writes one result per request to
    predictions.results. Start several with different --name values: they share the work.
    The model comes from Redis and is hot-swapped on models.lifecycle events.
    """
    from inference.bootstrap import run_worker

    run_worker(Settings(), name=name, loglevel=loglevel)
