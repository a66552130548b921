"""`mlops-fc api` (the REST facade and flows page) and `mlops-fc sink` (the result store)."""

from __future__ import annotations

import logging

import typer

from cli.preflight import require_kafka
from stack.settings import Settings


def api(
    loglevel: str = typer.Option("info", help="Log level: critical, error, warning, info or debug."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every HTTP request."),
) -> None:
    """Serve the REST facade on MLOPS_FC_API_HOST:MLOPS_FC_API_PORT until stopped.

    POST /v1/predictions publishes a request and waits for its result over Kafka; the
    OpenAPI docs are at /docs, the flows page at /ui, Prometheus metrics at /metrics.
    Needs the stack (`mlops-fc stack up`); predictions need a worker (`mlops-fc worker`).
    """
    import uvicorn

    from api.app import create_app

    settings = require_kafka(Settings())
    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=loglevel.lower(),
        access_log=access_log,
        proxy_headers=False,
    )


def sink(
    loglevel: str = typer.Option("info", help="Log level: critical, error, warning, info or debug."),
) -> None:
    """Store every prediction result in Redis by request id until stopped (Ctrl-C / SIGTERM).

    A consumer group (MLOPS_FC_SINK_GROUP_ID) on predictions.results: results of requests
    from any client (kcat, producers, the facade) become readable at
    GET /v1/predictions/{request_id} for MLOPS_FC_RESULT_TTL_S. The first result per id wins;
    undecodable results go to the dead-letter topic.
    """
    import signal
    import threading

    from consumers.sink import build_sink

    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        build_sink(require_kafka(Settings())).run(stop)
    except KeyboardInterrupt:
        pass
