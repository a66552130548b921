"""`mlops-fc monitor`: run the drift monitor."""

from __future__ import annotations

import logging

import typer

from cli.preflight import require_kafka
from stack.settings import Settings


def monitor(
    loglevel: str = typer.Option("info", help="Log level: critical, error, warning, info or debug."),
) -> None:
    """Watch the served model for drift until stopped (Ctrl-C / SIGTERM).

    Run one per deployment. Reads predictions.results (the vectors scored)
    and transfers.completed (real fees, matched to predictions by
    transfer_id).

    Feature drift: Evidently compares the latest request vectors with the
    current model's reference sample; the HTML report goes to
    <state_dir>/reports. Performance drift: the rolling error on log fee
    against the model's validation error.

    Each finding is a DriftDetected on monitoring.drift, which the retrainer
    consumes. Windows and thresholds: the MLOPS_FC_DRIFT_* settings.
    """
    from monitoring.bootstrap import run_monitor

    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_monitor(require_kafka(Settings()))
