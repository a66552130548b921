"""`mlops-fc alerts`: the alert sink, events and silent workers to a webhook."""

from __future__ import annotations

import logging

import typer

from cli.preflight import require_kafka
from stack.settings import Settings


def alerts(
    loglevel: str = typer.Option("info", help="Log level: critical, error, warning, info or debug."),
) -> None:
    """POST an alert to MLOPS_FC_ALERT_WEBHOOK_URL for what a human should hear about.

    Alerts on: drift events (monitoring.drift); models shadowed, promoted, rejected or rolled
    back, with their evidence (models.lifecycle); dead letters above
    MLOPS_FC_ALERT_DEADLETTER_RATE_PER_MIN; a worker whose Redis heartbeat expired or is
    older than MLOPS_FC_ALERT_WORKER_STALE_S.

    Bodies suit Slack incoming webhooks (MLOPS_FC_ALERT_WEBHOOK_FORMAT=slack) or any JSON
    receiver (json). A failing webhook is retried with backoff without holding back the next
    alert. Its own consumer group (MLOPS_FC_ALERT_GROUP_ID); /metrics on
    MLOPS_FC_ALERT_METRICS_PORT (mlops_fc_alerts_total, drawn on Grafana as annotations).
    Runs until Ctrl-C / SIGTERM.
    """
    import signal
    import threading

    from prometheus_client import start_http_server

    from consumers.alerts import build_alerts

    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = require_kafka(Settings())
    sink = build_alerts(settings)
    if settings.alert_metrics_port:
        start_http_server(settings.alert_metrics_port, registry=sink.metrics.registry)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sink.run(stop)
    except KeyboardInterrupt:
        stop.set()
