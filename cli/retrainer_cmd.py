"""`mlops-fc retrainer` and `mlops-fc retrain`: the drift-driven retraining loop, and its manual trigger."""

from __future__ import annotations

import logging
import signal
import threading

import typer
from rich.console import Console

from cli.preflight import require_kafka
from stack.settings import Settings

console = Console()


def retrainer() -> None:
    """Retrain on drift events until stopped (Ctrl-C / SIGTERM, after the current event).

    For each DriftDetected (or RetrainRequested) on monitoring.drift: replay transfers.completed into a
    point-in-time training set (window: MLOPS_FC_RETRAIN_WINDOW), train a challenger,
    compare it with the champion on the most recent transfers held out from training,
    register it in MLflow, then promote it (Redis + `champion` alias + ModelPromoted) only
    if it wins by MLOPS_FC_RETRAIN_MARGIN; else ModelRejected. In shadow mode
    (MLOPS_FC_PROMOTION=shadow) a winner scores in shadow first (ModelShadowed), and drift
    events that come while it is judged are skipped until its verdict. One retrain at a
    time, a cool-down between retrains (MLOPS_FC_RETRAIN_COOLDOWN_S), and each event handled
    once even across a crash. A Redis outage is waited out (retried with backoff).
    """
    from retrainer.service import run_retrainer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    settings = require_kafka(Settings())
    console.print(f"retrainer for {settings.model_name}: waiting for drift events (Ctrl-C stops)")

    def report(event: object, outcome: object) -> None:
        console.print(f"[bold]{getattr(outcome, 'status', '?')}[/bold] {getattr(outcome, 'reason', '')}")

    run_retrainer(settings, stop, on_outcome=report)


def retrain(
    reason: str = typer.Option(
        "asked for by hand", "--reason", help="Why: kept in the challenger's MLflow run."
    ),
    requested_by: str = typer.Option(
        None, "--by", envvar="USER", help="Who asks (default: $USER); kept with the reason."
    ),
) -> None:
    """Ask for a retrain now: publishes a RetrainRequested that `mlops-fc retrainer` handles.

    A requested retrain skips the cool-down and replaces a challenger in shadow; its
    challenger still has to beat the champion.
    """
    from schemas.codec import encode_for
    from schemas.commands import RetrainRequested
    from schemas.topics import MONITORING_DRIFT
    from stack.kafka_clients import make_producer

    settings = require_kafka(Settings())
    command = RetrainRequested(
        source="cli", model_name=settings.model_name, requested_by=requested_by or "cli", reason=reason
    )
    producer = make_producer(settings)
    key, value, headers = encode_for(command, MONITORING_DRIFT)
    producer.produce(settings.topic(MONITORING_DRIFT.name), key=key, value=value, headers=headers)
    if producer.flush(30) != 0:
        console.print(
            "[red]the retrain request was not delivered: is Kafka up? (`mlops-fc stack status`)[/red]"
        )
        raise typer.Exit(1)
    console.print(f"retrain requested (event {command.event_id}); `mlops-fc retrainer` handles it")
