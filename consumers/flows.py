"""The flows: topics with partitions, end offsets and rates; consumer groups with lag.

A sampler thread asks the broker (AdminClient) every ``api_flows_sample_s`` and keeps a
short history of end offsets, so rates are differences between samples, not guesses. The
pipeline graph is the catalogue's wiring: which service reads and writes which topic, with
the lag of the service's consumer group on each topic it reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from schemas.topics import CATALOGUE
from stack.kafka_clients import make_admin
from stack.settings import Settings

log = logging.getLogger(__name__)
ADMIN_TIMEOUT_S = 5.0
RATE_WINDOW_S = 30.0
RETRAINER_GROUP = "mlops-fc-retrainer"

# (from, to): a service writing a topic, or a topic read by a service (its group's lag).
PIPELINE: tuple[tuple[str, str], ...] = (
    ("producers", "players.records"),
    ("producers", "transfers.completed"),
    ("producers", "predictions.requests"),
    ("producers", "players.season-stats"),
    ("api", "predictions.requests"),
    ("players.records", "worker"),
    ("transfers.completed", "worker"),
    ("players.season-stats", "worker"),
    ("predictions.requests", "worker"),
    ("models.lifecycle", "worker"),
    ("worker", "predictions.results"),
    ("worker", "deadletters"),
    ("predictions.results", "monitor"),
    ("transfers.completed", "monitor"),
    ("monitor", "monitoring.drift"),
    ("monitoring.drift", "retrainer"),
    ("transfers.completed", "retrainer"),
    ("players.season-stats", "retrainer"),
    ("retrainer", "models.lifecycle"),
    ("predictions.results", "api"),
    ("predictions.results", "sink"),
)
SERVICES = ("producers", "api", "worker", "monitor", "retrainer", "sink")


@dataclass(frozen=True)
class Sample:
    at: float
    ends: dict[str, dict[int, int]]  # broker topic -> partition -> end offset


def service_groups(settings: Settings) -> dict[str, str]:
    """Consumer group id -> the service it belongs to."""
    prefix = settings.topic_prefix
    return {
        f"{prefix}{settings.worker_app_id}": "worker",
        f"{prefix}{settings.monitor_group_id}": "monitor",
        f"{prefix}{RETRAINER_GROUP}": "retrainer",
        f"{prefix}{settings.sink_group_id}": "sink",
    }


class Flows:
    """Samples the broker in a daemon thread; ``snapshot()`` is cheap and never blocks on it."""

    def __init__(self, settings: Settings, admin: AdminClient | None = None) -> None:
        self.settings = settings
        self.admin = admin or make_admin(settings)
        self.samples: deque[Sample] = deque(maxlen=64)
        self.groups: list[dict[str, Any]] = []
        self.error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="flows-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(ADMIN_TIMEOUT_S * 2)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample_once()
            self._stop.wait(self.settings.api_flows_sample_s)

    def sample_once(self) -> None:
        try:
            sample = Sample(time.time(), self._end_offsets())
            groups = self._groups(sample)
        except Exception as exc:  # noqa: BLE001 - the broker may be down: report it, keep sampling
            log.warning("flows sample failed: %s", exc)
            with self._lock:
                self.error = str(exc)
            return
        with self._lock:
            self.samples.append(sample)
            self.groups = groups
            self.error = None

    # Broker calls (sampler thread) --------------------------------------------------------

    def _topics(self) -> dict[str, list[int]]:
        prefix = self.settings.topic_prefix
        listed = self.admin.list_topics(timeout=ADMIN_TIMEOUT_S).topics
        return {
            name: sorted(meta.partitions)
            for name, meta in listed.items()
            if name.startswith(prefix) and not name.startswith("__") and meta.error is None
        }

    def _end_offsets(self) -> dict[str, dict[int, int]]:
        wanted = {
            TopicPartition(topic, p): OffsetSpec.latest()
            for topic, parts in self._topics().items()
            for p in parts
        }
        ends: dict[str, dict[int, int]] = {}
        if not wanted:
            return ends
        futures = self.admin.list_offsets(wanted, request_timeout=ADMIN_TIMEOUT_S)
        for tp, future in futures.items():
            ends.setdefault(tp.topic, {})[tp.partition] = int(future.result().offset)
        return ends

    def _groups(self, sample: Sample) -> list[dict[str, Any]]:
        prefix = self.settings.topic_prefix
        listing = self.admin.list_consumer_groups(request_timeout=ADMIN_TIMEOUT_S).result()
        ids = sorted(g.group_id for g in listing.valid if g.group_id.startswith(prefix))
        if not ids:
            return []
        described = self.admin.describe_consumer_groups(ids, request_timeout=ADMIN_TIMEOUT_S)
        names = service_groups(self.settings)
        groups = []
        for group_id in ids:
            try:
                description = described[group_id].result()
                state, members = str(description.state.name).lower(), len(description.members)
            except Exception:  # noqa: BLE001 - a group deleted between list and describe
                state, members = "unknown", 0
            request = [ConsumerGroupTopicPartitions(group_id)]
            committed = self.admin.list_consumer_group_offsets(request, request_timeout=ADMIN_TIMEOUT_S)
            per_topic: dict[str, list[dict[str, int]]] = {}
            for tp in committed[group_id].result().topic_partitions or []:
                end = sample.ends.get(tp.topic, {}).get(tp.partition)
                if end is None or tp.offset < 0:
                    continue
                lag = max(0, end - tp.offset)
                per_topic.setdefault(tp.topic, []).append(
                    {"partition": tp.partition, "committed": tp.offset, "end_offset": end, "lag": lag}
                )
            topics: list[dict[str, Any]] = [
                {"topic": self._short(t), "lag": sum(p["lag"] for p in parts), "partitions": parts}
                for t, parts in sorted(per_topic.items())
            ]
            groups.append(
                {
                    "group_id": group_id,
                    "service": names.get(group_id),
                    "state": state,
                    "members": members,
                    "lag": sum(int(t["lag"]) for t in topics),
                    "topics": topics,
                }
            )
        return groups

    # Views (any thread) -----------------------------------------------------------------

    def _short(self, broker_topic: str) -> str:
        return self.settings.catalogue_name(broker_topic)

    def rates(self) -> dict[str, float | None]:
        """Messages per second per broker topic over the last RATE_WINDOW_S (None: one sample)."""
        with self._lock:
            samples = list(self.samples)
        if len(samples) < 2:
            return {topic: None for topic in (samples[-1].ends if samples else {})}
        latest = samples[-1]
        oldest = next((s for s in samples if latest.at - s.at <= RATE_WINDOW_S), samples[-2])
        if oldest is latest:
            oldest = samples[-2]
        span = max(latest.at - oldest.at, 1e-6)
        return {
            topic: max(0.0, sum(parts.values()) - sum(oldest.ends.get(topic, {}).values())) / span
            for topic, parts in latest.ends.items()
        }

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            latest = self.samples[-1] if self.samples else None
            groups = list(self.groups)
            error = self.error
        rates = self.rates()
        catalogue = {spec.name for spec in CATALOGUE}
        topics = []
        for broker_topic, parts in sorted((latest.ends if latest else {}).items()):
            name = self._short(broker_topic)
            topics.append(
                {
                    "name": name,
                    "broker_topic": broker_topic,
                    "catalogue": name in catalogue,
                    "partitions": [{"partition": p, "end_offset": end} for p, end in sorted(parts.items())],
                    "end_offset": sum(parts.values()),
                    "rate_per_s": rates.get(broker_topic),
                }
            )
        return {
            "sampled_at": latest.at if latest else None,
            "error": error,
            "topics": topics,
            "groups": groups,
            "graph": self._graph(topics, groups),
        }

    def _graph(self, topics: list[dict[str, Any]], groups: list[dict[str, Any]]) -> dict[str, Any]:
        by_topic = {t["name"]: t for t in topics}
        lag: dict[tuple[str, str], int] = {}
        for group in groups:
            if group["service"]:
                for topic in group["topics"]:
                    lag[(topic["topic"], group["service"])] = topic["lag"]
        nodes = [{"id": s, "kind": "service"} for s in SERVICES] + [
            {
                "id": spec.name,
                "kind": "topic",
                "end_offset": by_topic.get(spec.name, {}).get("end_offset"),
                "rate_per_s": by_topic.get(spec.name, {}).get("rate_per_s"),
            }
            for spec in CATALOGUE
        ]
        edges = []
        for source, target in PIPELINE:
            topic = target if source in SERVICES else source
            edges.append(
                {
                    "from": source,
                    "to": target,
                    "topic": topic,
                    "lag": lag.get((source, target)),
                    "rate_per_s": by_topic.get(topic, {}).get("rate_per_s"),
                }
            )
        return {"nodes": nodes, "edges": edges}

    def lag_by_group(self) -> list[tuple[str, str, int]]:
        """(group, topic, lag) for /metrics."""
        with self._lock:
            return [(g["group_id"], t["topic"], t["lag"]) for g in self.groups for t in g["topics"]]
