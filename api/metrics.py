"""Prometheus metrics of the facade, on a registry of its own (one per app, none global).

Counters and histograms are updated as requests and results pass; the model version,
drift events and consumer lag are read from the facade's state at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from consumers.replica import DECISIONS
from schemas.predictions import PredictionResult

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class StateGauges:
    """Callables that read the facade's state when Prometheus scrapes."""

    model_version: Callable[[], str | None] = lambda: None
    drift_counts: Callable[[], dict[str, int]] = dict
    decision_counts: Callable[[], dict[str, int]] = dict  # consumers.replica.DECISIONS values
    lag: Callable[[], list[tuple[str, str, int]]] = list
    in_flight: Callable[[], int] = lambda: 0
    champion: Callable[[], str | None] = lambda: None
    worker_versions: Callable[[], dict[str, str | None]] = dict
    disagreement: Callable[[], bool] = lambda: False
    label_health: Callable[[], dict[str, dict[str, Any]]] = dict  # per version, from the monitor
    lineage: Callable[[], dict[str, dict[str, str]]] = dict  # per version: run_id, verdict


def _number(version: str | None) -> float:
    return float(version) if version and version.isdigit() else 0.0


class _StateCollector(Collector):
    def __init__(self, state: StateGauges) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        model = GaugeMetricFamily(
            "mlops_fc_model_version", "Serving model version (from models.lifecycle); 0 before the first."
        )
        model.add_metric([], _number(self.state.model_version()))
        yield model
        yield from self._serving()
        drift = GaugeMetricFamily(
            "mlops_fc_drift_events", "Drift events on monitoring.drift, by kind.", labels=["kind"]
        )
        counts = self.state.drift_counts()
        for kind in ("feature", "performance"):
            drift.add_metric([kind], float(counts.get(kind, 0)))
        yield drift
        decisions = CounterMetricFamily(
            "mlops_fc_model_decisions",
            "Model lifecycle decisions on models.lifecycle (shadowed, promoted, rejected, rolled_back).",
            labels=["decision"],
        )
        decided = self.state.decision_counts()
        for decision in DECISIONS.values():
            decisions.add_metric([decision], float(decided.get(decision, 0)))
        yield decisions
        lag = GaugeMetricFamily(
            "mlops_fc_consumer_lag", "Messages a consumer group has yet to read.", labels=["group", "topic"]
        )
        for group, topic, value in self.state.lag():
            lag.add_metric([group, topic], float(value))
        yield lag
        waiting = GaugeMetricFamily("mlops_fc_api_predictions_in_flight", "Requests awaiting their result.")
        waiting.add_metric([], float(self.state.in_flight()))
        yield waiting
        yield from self._label_health()

    def _label_health(self) -> Iterator[Metric]:
        health = self.state.label_health()
        per_version = {
            "requests_answered": (
                "mlops_fc_model_requests_answered",
                "Results with a fee, per model version.",
            ),
            "labels_received": (
                "mlops_fc_model_labels_received",
                "Answers that met their real fee, per version.",
            ),
            "label_share": ("mlops_fc_model_label_share", "Labels received over requests answered."),
            "live_mae_log": ("mlops_fc_model_live_mae_log", "Live MAE on log1p(fee) over the latest labels."),
            "live_mae_eur_m": ("mlops_fc_model_live_mae_eur_m", "Live MAE in EUR m over the latest labels."),
            "interval_coverage": (
                "mlops_fc_model_interval_coverage",
                "Share of real fees inside the interval that was served.",
            ),
        }
        for key, (name, doc) in per_version.items():
            family = GaugeMetricFamily(name, doc, labels=["version"])
            for version, body in sorted(health.items()):
                if body.get(key) is not None:
                    family.add_metric([version], float(body[key]))
            yield family
        delay = GaugeMetricFamily(
            "mlops_fc_model_label_delay_seconds",
            "From the answer to its real fee reaching the monitor, per version (p50, p90).",
            labels=["version", "quantile"],
        )
        for version, body in sorted(health.items()):
            for quantile in ("p50", "p90"):
                value = body.get(f"label_delay_{quantile}_s")
                if value is not None:
                    delay.add_metric([version, quantile], float(value))
        yield delay
        info = GaugeMetricFamily(
            "mlops_fc_model_lineage",
            "1 per model version, labelled with its training run and its last verdict.",
            labels=["version", "run_id", "verdict"],
        )
        for version, found in sorted(self.state.lineage().items()):
            info.add_metric([version, found.get("run_id", ""), found.get("verdict", "")], 1.0)
        yield info

    def _serving(self) -> Iterator[Metric]:
        champion = GaugeMetricFamily(
            "mlops_fc_registry_champion_version", "The registry's champion version; 0 when none."
        )
        champion.add_metric([], _number(self.state.champion()))
        yield champion
        workers = GaugeMetricFamily(
            "mlops_fc_worker_serving_version",
            "Model version each live worker reports serving (its heartbeat); 0: no model.",
            labels=["worker"],
        )
        for worker, version in sorted(self.state.worker_versions().items()):
            workers.add_metric([worker], _number(version))
        yield workers
        disagreement = GaugeMetricFamily(
            "mlops_fc_model_disagreement",
            "1 while live workers serve another version than the registry's champion (past a grace).",
        )
        disagreement.add_metric([], 1.0 if self.state.disagreement() else 0.0)
        yield disagreement


@dataclass
class ApiMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "mlops_fc_api_requests",
            "HTTP requests handled, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mlops_fc_api_request_seconds",
            "HTTP request latency, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.results = Counter(
            "mlops_fc_prediction_results",
            "Results read from predictions.results, by scoring worker and status.",
            ["worker", "status"],
            registry=self.registry,
        )
        self.worker_latency = Histogram(
            "mlops_fc_prediction_worker_seconds",
            "Request-to-result time as the worker measured it (timings.total).",
            ["worker"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.timeouts = Counter(
            "mlops_fc_api_prediction_timeouts",
            "Predictions answered 202 because the result was not there in time.",
            registry=self.registry,
        )
        self.state = StateGauges()
        self.registry.register(_StateCollector(self.state))

    def observe_result(self, result: PredictionResult) -> None:
        self.results.labels(result.source, result.status).inc()
        total = result.timings.get("total")
        if total is not None:
            self.worker_latency.labels(result.source).observe(total / 1000)
