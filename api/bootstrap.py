"""Start-up wiring of the facade: build every client once, start the readers, stop them at exit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from confluent_kafka.admin import AdminClient

from api.metrics import ApiMetrics
from api.ports import Services
from consumers.correlator import Correlator
from consumers.flows import ADMIN_TIMEOUT_S, Flows
from consumers.messages import latest
from consumers.models_view import MlflowModels
from consumers.publisher import Publisher
from consumers.reader import TopicReader
from consumers.replica import Replica
from consumers.result_store import RedisResultStore
from stack.kafka_clients import make_admin
from stack.redis_clients import async_redis_client, redis_client
from stack.settings import Settings

log = logging.getLogger(__name__)


class BrokerReadiness:
    def __init__(self, admin: AdminClient, correlator: Correlator, replica_reader: TopicReader) -> None:
        self.admin = admin
        self.correlator = correlator
        self.replica_reader = replica_reader

    def kafka(self) -> bool:
        try:
            self.admin.list_topics(timeout=ADMIN_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    def readers(self) -> dict[str, bool]:
        results = self.correlator.reader
        return {
            "results": results.alive() and results.failed is None,
            "replica": self.replica_reader.alive() and self.replica_reader.failed is None,
            "replica_caught_up": self.replica_reader.caught_up.is_set(),
        }


@asynccontextmanager
async def running_services(settings: Settings, metrics: ApiMetrics) -> AsyncIterator[Services]:
    loop = asyncio.get_running_loop()
    store = RedisResultStore(
        redis_client(settings),
        settings.topic_prefix,
        settings.result_ttl_s,
        async_client=async_redis_client(settings),
    )
    publisher = Publisher(settings)
    correlator = Correlator(settings, publisher, store, on_result=metrics.observe_result)
    replica = Replica()
    replica_reader = TopicReader(
        settings, dict.fromkeys(Replica.topics(settings), "beginning"), replica.handle, "replica-reader"
    )
    admin = make_admin(settings)
    flows = Flows(settings, admin)
    models = await asyncio.to_thread(MlflowModels, settings)  # imports MLflow: seconds
    await asyncio.to_thread(correlator.start, loop)
    await asyncio.to_thread(replica_reader.start)
    flows.start()
    metrics.state.model_version = replica.serving_version
    metrics.state.drift_counts = lambda: dict(replica.drift_counts)
    metrics.state.lag = flows.lag_by_group
    metrics.state.in_flight = lambda: correlator.in_flight
    try:
        yield Services(
            settings=settings,
            predictor=correlator,
            store=store,
            replica=replica,
            models=models,
            flows=flows,
            peek=latest,
            readiness=BrokerReadiness(admin, correlator, replica_reader),
            metrics=metrics,
        )
    finally:
        flows.stop()
        replica_reader.stop()
        correlator.stop()
        await asyncio.to_thread(publisher.close)
        await store.aclose()
