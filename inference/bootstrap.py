"""Wiring of one worker process: settings in, clients built, the Faust worker run."""

from __future__ import annotations

import os

from stack.settings import Settings


def run_worker(settings: Settings, name: str = "worker-1", loglevel: str = "warn") -> None:
    """Run one inference worker until SIGTERM/Ctrl-C. Several may share the consumer group.

    Raises MetricsPortInUse before anything starts when its metrics port is taken.
    """
    # One thread for numpy/OpenMP: Faust is single-threaded and several workers share cores.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from threadpoolctl import threadpool_limits

    from inference.app import build_app
    from inference.faust_tuning import (
        SpinnerlessWorker,
        commit_before_revoke,
        limit_fetch_wait,
        no_read_offset_filter,
    )
    from inference.metrics import WorkerMetrics
    from inference.model_holder import ModelHolder
    from inference.transfers_view import TransfersView
    from modelstore.redis_cache import ModelCache
    from schemas.topics import PLAYERS_RECORDS, PREDICTIONS_REQUESTS, TRANSFERS_COMPLETED
    from stack.kafka_connection import kafka_connection
    from stack.redis_clients import redis_client

    metrics = WorkerMetrics(name)
    metrics.serve(settings.worker_metrics_host, settings.worker_metrics_port)  # fails fast if taken
    threadpool_limits(1)
    limit_fetch_wait(settings.worker_fetch_max_wait_ms)
    commit_before_revoke()
    # Requests: the ledger recognises repeats. Records and transfers: player-state updates are
    # idempotent, so a repeat costs nothing while a record Faust drops would be missing.
    no_read_offset_filter(
        settings.topic(t.name) for t in (PREDICTIONS_REQUESTS, PLAYERS_RECORDS, TRANSFERS_COMPLETED)
    )
    holder = ModelHolder(
        store=ModelCache(redis_client(settings), prefix=settings.topic_prefix),
        model_name=settings.model_name,
        signing_key=settings.model_signing_key.get_secret_value().encode(),
    )
    view = TransfersView(kafka_connection(settings), settings.topic(TRANSFERS_COMPLETED.name))
    datadir = settings.state_dir / "workers" / name
    datadir.mkdir(parents=True, exist_ok=True)
    app = build_app(settings, holder, view, str(datadir), worker_name=name, metrics=metrics)
    SpinnerlessWorker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
