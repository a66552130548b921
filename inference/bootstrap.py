"""Wiring of one worker process: settings in, every client built here, the Faust worker run.

Kafka and Redis clients are made in this module only, so how they connect (addresses, and
later TLS/SASL) changes in one place. aiokafka clients bind to the running event loop when
built, so for those this hands out factories that the worker's tasks call once started.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stack.settings import Settings

if TYPE_CHECKING:
    import redis
    from aiokafka import AIOKafkaConsumer
    from confluent_kafka.admin import AdminClient
    from faust.types.auth import CredentialsT

    from inference.calibrated import IntervalBounds
    from inference.metrics import WorkerMetrics
    from inference.model_holder import ModelHolder
    from inference.shadow_model import ShadowHolder
    from inference.transfers_view import TransfersView
    from stack.async_producer import AsyncProducer

HEARTBEAT_SOCKET_TIMEOUT_S = 2.0  # a hung Redis costs a skipped beat, not a stuck thread


@dataclass(frozen=True)
class WorkerClients:
    """Everything the worker talks to, built from settings."""

    faust_broker: str  # Faust's broker URL
    faust_credentials: CredentialsT | None  # TLS / SASL for Faust's own aiokafka clients
    holder: ModelHolder
    view: TransfersView
    results: AsyncProducer  # results out through librdkafka
    admin: AdminClient  # reads the group's committed offsets
    heartbeat_store: redis.Redis
    lifecycle_reader: Callable[[], AIOKafkaConsumer]
    interval_bounds: IntervalBounds | None = None  # calibrated intervals, read on a timer
    shadow: ShadowHolder | None = None  # the model scoring in shadow, if the slot names one


def aiokafka_reader(settings: Settings, **options: Any) -> Callable[[], AIOKafkaConsumer]:
    """A factory of group-less, never-committing aiokafka consumers (call it in the loop)."""
    from aiokafka import AIOKafkaConsumer

    from stack.kafka_connection import kafka_connection

    connection = kafka_connection(settings).aiokafka()

    def build() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(**connection, enable_auto_commit=False, **options)

    return build


def build_clients(settings: Settings) -> WorkerClients:
    from inference.calibrated import IntervalBounds
    from inference.kafka_auth import faust_credentials
    from inference.model_holder import ModelHolder
    from inference.shadow_model import ShadowHolder
    from inference.transfers_view import TransfersView
    from modelstore.calibration import BoundsStore
    from modelstore.redis_cache import ModelCache
    from schemas.topics import TRANSFERS_COMPLETED
    from stack.async_producer import AsyncProducer
    from stack.kafka_clients import make_admin, make_producer
    from stack.kafka_connection import kafka_connection
    from stack.redis_clients import redis_client

    connection = kafka_connection(settings)
    cache = ModelCache(redis_client(settings), prefix=settings.topic_prefix)
    signing_key = settings.model_signing_key.get_secret_value().encode()
    return WorkerClients(
        faust_broker=connection.faust_broker(),
        faust_credentials=faust_credentials(connection),
        holder=ModelHolder(store=cache, model_name=settings.model_name, signing_key=signing_key),
        shadow=ShadowHolder(cache, cache.shadow_slot(settings.model_name), settings.model_name, signing_key),
        view=TransfersView(
            settings.topic(TRANSFERS_COMPLETED.name),
            reader=aiokafka_reader(settings, group_id=None, isolation_level="read_committed"),
            # its own connection: on the fetching reader's, the request would queue behind a
            # long poll of the (mostly idle) topic and cost every batch up to half a second
            offsets_reader=aiokafka_reader(settings),
        ),
        # Results go out through librdkafka (a few microseconds a message where Faust's send
        # path costs tens); each batch awaits its delivery before its requests are acknowledged.
        results=AsyncProducer(make_producer(settings, **{"linger.ms": 1})),
        admin=make_admin(settings),
        heartbeat_store=redis_client(
            settings,
            socket_timeout=HEARTBEAT_SOCKET_TIMEOUT_S,
            socket_connect_timeout=HEARTBEAT_SOCKET_TIMEOUT_S,
        ),
        lifecycle_reader=aiokafka_reader(settings, group_id=None),
        interval_bounds=IntervalBounds(
            BoundsStore(redis_client(settings), settings.topic_prefix, settings.model_name)
        ),
    )


def run_worker(settings: Settings, name: str = "worker-1", loglevel: str = "warn") -> None:
    """Run one inference worker until SIGTERM/Ctrl-C. Several may share the consumer group.

    Raises MetricsPortInUse before anything starts when its metrics port is taken.
    """
    # One thread for numpy/OpenMP: Faust is single-threaded and several workers share cores.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from threadpoolctl import threadpool_limits

    from inference.app import build_app
    from inference.faust import SpinnerlessWorker, apply_workarounds, use_event_loop
    from inference.metrics import WorkerMetrics

    metrics: WorkerMetrics = WorkerMetrics(name)
    metrics.serve(settings.worker_metrics_host, settings.worker_metrics_port)  # fails fast if taken
    threadpool_limits(1)
    apply_workarounds(settings)
    use_event_loop(settings.worker_event_loop)  # before Faust or any client makes a loop
    datadir = settings.state_dir / "workers" / name
    datadir.mkdir(parents=True, exist_ok=True)
    app = build_app(settings, build_clients(settings), str(datadir), worker_name=name, metrics=metrics)
    SpinnerlessWorker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
