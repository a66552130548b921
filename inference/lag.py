"""The lag metric: per topic, messages on this worker's partitions past what it has handled."""

from __future__ import annotations

from collections.abc import Callable, Collection

from inference.faust.consumer_calls import GroupConsumer
from inference.metrics import WorkerMetrics
from inference.request_offsets import RequestOffsets
from inference.state_sync import IngestProgress


class LagReport:
    def __init__(
        self,
        consumer: Callable[[], GroupConsumer],
        requests: RequestOffsets,
        players: IngestProgress,
        ingest_topics: Collection[str],
        catalogue_name: Callable[[str], str],
        metrics: WorkerMetrics,
    ) -> None:
        self._consumer = consumer
        self._requests = requests
        self._players = players
        self._ingest_topics = set(ingest_topics)
        self._catalogue_name = catalogue_name
        self._metrics = metrics

    def refresh(self) -> None:
        """Requests count as handled once answered; records and transfers once applied."""
        consumer = self._consumer()
        by_topic: dict[str, int] = {}
        for tp in consumer.assignment():
            if tp.topic == self._requests.topic:
                handled = self._requests.frontier(tp)
            elif tp.topic in self._ingest_topics:
                handled = self._players.applied(tp.topic, tp.partition)
            else:
                continue  # changelogs: Faust's table recovery
            highwater = consumer.highwater(tp)
            if highwater is None or handled is None:
                continue
            name = self._catalogue_name(tp.topic)
            by_topic[name] = by_topic.get(name, 0) + max(highwater - handled, 0)
        self._metrics.set_lag(by_topic)
