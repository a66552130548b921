"""Start-up wiring of the facade: build every client once, start the readers, stop them at exit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from confluent_kafka.admin import AdminClient

from api.metrics import ApiMetrics
from api.ports import Services
from api.serving import ServingWatch
from consumers.correlator import Correlator
from consumers.flows import ADMIN_TIMEOUT_S, Flows
from consumers.lineage import lineage_labels
from consumers.messages import latest
from consumers.models_view import MlflowModels
from consumers.publisher import Publisher
from consumers.reader import TopicReader
from consumers.replica import TIMELINE_SIZE, Replica
from consumers.result_store import RedisResultStore
from consumers.worker_beats import WorkerBeats
from modelstore.calibration import read_health
from modelstore.exceptions import EvidenceStoreUnavailable
from schemas.predictions import PredictionResult
from stack.kafka_clients import make_admin
from stack.redis_clients import async_redis_client, redis_client
from stack.settings import Settings

log = logging.getLogger(__name__)
REDIS_TIMEOUT_S = 5.0
Threads = dict[str, Callable[[], bool]]


class BrokerReadiness:
    def __init__(
        self, admin: AdminClient, correlator: Correlator, replica_reader: TopicReader, threads: Threads
    ) -> None:
        self.admin = admin
        self.correlator = correlator
        self.replica_reader = replica_reader
        self._threads = threads

    def kafka(self) -> bool:
        try:
            self.admin.list_topics(timeout=ADMIN_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    def readers(self) -> dict[str, bool]:
        results = self.correlator.reader
        return {
            "results": results.healthy(),
            "results_stored": self.correlator.store_problem is None,
            "replica": self.replica_reader.healthy(),
            "replica_caught_up": self.replica_reader.caught_up.is_set(),
        }

    def threads(self) -> dict[str, bool]:
        return {name: alive() for name, alive in self._threads.items()}


@asynccontextmanager
async def running_services(settings: Settings, metrics: ApiMetrics) -> AsyncIterator[Services]:
    loop = asyncio.get_running_loop()
    # Timeouts: a Redis that stops answering (not only one that refuses) must not hang a thread.
    sync_redis = redis_client(
        settings, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    store = RedisResultStore(
        sync_redis, settings.topic_prefix, settings.result_ttl_s, async_client=async_redis_client(settings)
    )
    publisher = Publisher(settings)
    beats = WorkerBeats(sync_redis, settings.model_name, settings.api_worker_stale_s, settings.topic_prefix)

    def label_health() -> dict[str, dict[str, Any]]:
        try:
            return read_health(sync_redis, settings.topic_prefix, settings.model_name)
        except EvidenceStoreUnavailable as exc:
            log.warning("label health unreadable: %s", exc)
            return {}

    def on_result(result: PredictionResult) -> None:
        metrics.observe_result(result)
        beats.note(result.source.rpartition("/")[2])

    correlator = Correlator(settings, publisher, store, on_result=on_result)
    replica = Replica()
    replica_reader = TopicReader(
        settings, dict.fromkeys(Replica.topics(settings), "beginning"), replica.handle, "replica-reader"
    )
    admin = make_admin(settings)
    flows = Flows(settings, admin)
    models = await asyncio.to_thread(MlflowModels, settings)  # imports MLflow: seconds
    watch = ServingWatch(
        models.champion_version,
        models.serving_version,
        beats,
        every_s=settings.api_serving_check_s,
        grace_s=settings.api_model_disagreement_grace_s,
    )
    await asyncio.to_thread(correlator.start, loop)
    await asyncio.to_thread(replica_reader.start)
    flows.start()
    await asyncio.to_thread(watch.check_once)  # /readyz has a first view from the start
    watch.start()
    _gauges(metrics, replica, flows, correlator, watch)
    metrics.state.label_health = label_health
    metrics.state.lineage = lambda: lineage_labels(replica.events(None, TIMELINE_SIZE)[::-1])
    threads: Threads = {
        "results_reader": correlator.reader.alive,
        "replica_reader": replica_reader.alive,
        "flows_sampler": flows.alive,
        "serving_watch": watch.alive,
    }
    try:
        yield Services(
            settings=settings,
            predictor=correlator,
            store=store,
            replica=replica,
            models=models,
            flows=flows,
            peek=latest,
            readiness=BrokerReadiness(admin, correlator, replica_reader, threads),
            metrics=metrics,
            serving=watch,
            label_health=label_health,
        )
    finally:
        watch.stop()
        flows.stop()
        replica_reader.stop()
        correlator.stop()
        await asyncio.to_thread(publisher.close)
        await store.aclose()


def _gauges(
    metrics: ApiMetrics, replica: Replica, flows: Flows, correlator: Correlator, watch: ServingWatch
) -> None:
    state = metrics.state
    state.model_version = replica.serving_version
    state.drift_counts = lambda: dict(replica.drift_counts)
    state.decision_counts = lambda: dict(replica.decision_counts)
    state.lag = flows.lag_by_group
    state.in_flight = lambda: correlator.in_flight
    state.champion = lambda: watch.view.champion
    state.worker_versions = lambda: {w.worker: w.model_version for w in watch.view.workers}
    state.disagreement = lambda: watch.view.disagreement
