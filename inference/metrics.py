"""Prometheus metrics of one inference worker, served on its own port (Faust's web server is off).

Counters and histograms move as batches are scored; the model version, swaps and lag are
read at scrape time from a snapshot the event loop refreshes, so the scrape thread never
touches the Faust consumer itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from inference.exceptions import MetricsPortInUse
from schemas.predictions import PredictionResult

log = logging.getLogger(__name__)
__all__ = ["MetricsPortInUse", "ModelFigures", "WorkerMetrics"]
LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ShadowCounts(Protocol):
    """What the figures read of inference/shadow_model.ShadowHolder."""

    @property
    def version(self) -> str | None: ...

    scored: int
    failures: int


@dataclass
class ModelFigures:
    """Read from the worker's model holder at scrape time."""

    version: Callable[[], str | None] = lambda: None
    swaps: Callable[[], int] = lambda: 0
    refused: Callable[[], int] = lambda: 0
    shadow_version: Callable[[], str | None] = lambda: None  # inference/shadow_model.ShadowHolder
    shadow_scored: Callable[[], int] = lambda: 0
    shadow_failures: Callable[[], int] = lambda: 0

    def follow_shadow(self, shadow: ShadowCounts) -> None:
        """Read the shadow model's version and counts at scrape time."""
        self.shadow_version = lambda: shadow.version
        self.shadow_scored = lambda: shadow.scored
        self.shadow_failures = lambda: shadow.failures


class _StateCollector(Collector):
    def __init__(self, worker: str, model: ModelFigures, lag: dict[str, int]) -> None:
        self.worker = worker
        self.model = model
        self.lag = lag

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("mlops_fc_worker_info", "This worker's name.", labels=["worker"])
        info.add_metric([self.worker], 1.0)
        yield info
        version = self.model.version()
        serving = GaugeMetricFamily(
            "mlops_fc_worker_model_version", "Model version this worker serves; 0 before the first."
        )
        serving.add_metric([], float(version) if version and version.isdigit() else 0.0)
        yield serving
        swaps = CounterMetricFamily("mlops_fc_worker_model_swaps", "Models this worker swapped to.")
        swaps.add_metric([], float(self.model.swaps()))
        yield swaps
        refused = CounterMetricFamily(
            "mlops_fc_worker_models_refused", "Model blobs refused (bad signature or failed smoke test)."
        )
        refused.add_metric([], float(self.model.refused()))
        yield refused
        yield from self._shadow()
        lag = GaugeMetricFamily(
            "mlops_fc_worker_lag",
            "Messages on this worker's partitions not yet handled (requests: not yet answered).",
            labels=["topic"],
        )
        for topic, value in dict(self.lag).items():  # a copy: the event loop replaces entries
            lag.add_metric([topic], float(value))
        yield lag

    def _shadow(self) -> Iterator[Metric]:
        shadow = self.model.shadow_version()
        version = GaugeMetricFamily(
            "mlops_fc_worker_shadow_model_version",
            "Model version this worker scores in shadow (challenger or guard); 0 when none.",
        )
        version.add_metric([], float(shadow) if shadow and shadow.isdigit() else 0.0)
        yield version
        scored = CounterMetricFamily(
            "mlops_fc_worker_shadow_predictions",
            "Requests scored in shadow (results for predictions.shadow, never predictions.results).",
        )
        scored.add_metric([], float(self.model.shadow_scored()))
        yield scored
        errors = CounterMetricFamily(
            "mlops_fc_worker_shadow_errors",
            "Batches the shadow model failed to score (the champion's results went out regardless).",
        )
        errors.add_metric([], float(self.model.shadow_failures()))
        yield errors


@dataclass
class WorkerMetrics:
    worker: str
    model: ModelFigures = field(default_factory=ModelFigures)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.results = Counter(
            "mlops_fc_worker_results",
            "Results produced and confirmed by the broker, by status.",
            ["status"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "mlops_fc_worker_request_seconds",
            "From a request's broker timestamp to its result built (timings.total).",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "mlops_fc_worker_batch_size",
            "Requests scored per batch.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "mlops_fc_worker_dead_letters",
            "Messages sent to the dead-letter topic, by source topic and error type.",
            ["topic", "error_type"],
            registry=self.registry,
        )
        self.rereads = Counter(
            "mlops_fc_worker_rereads",
            "Stretches of requests read again (never delivered to the agent, or stalled).",
            registry=self.registry,
        )
        self.delivery_failures = Counter(
            "mlops_fc_worker_result_delivery_failures",
            "Batches whose results the broker did not confirm (their requests are read again).",
            registry=self.registry,
        )
        self.lag: dict[str, int] = {}
        self.registry.register(_StateCollector(self.worker, self.model, self.lag))

    def observe_batch(self, results: Sequence[PredictionResult]) -> None:
        """A scored batch whose results the broker confirmed."""
        self.batch_size.observe(len(results))
        for result in results:
            self.results.labels(result.status).inc()
            total = result.timings.get("total")
            if total is not None:
                self.request_latency.observe(total / 1000)

    def set_lag(self, by_topic: dict[str, int]) -> None:
        for topic in set(self.lag) - set(by_topic):
            self.lag.pop(topic, None)
        self.lag.update(by_topic)

    def serve(self, host: str, port: int) -> None:
        """Serve /metrics from a daemon thread; port 0 serves nothing."""
        if port == 0:
            log.info("worker metrics off (MLOPS_FC_WORKER_METRICS_PORT=0)")
            return
        try:
            start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise MetricsPortInUse(
                f"cannot serve worker metrics on {host}:{port} ({exc.strerror}): give each worker on"
                " this machine its own MLOPS_FC_WORKER_METRICS_PORT (or --metrics-port), 0 for none"
            ) from exc
        log.info("worker metrics on http://%s:%d/metrics", host, port)
