"""`mlops-fc demo`: the closed loop on real transfers, judged against a model that never learns.

A first model learns seasons up to 2012. Then 2013–2022 stream in, one transfer window at a
time, each paid transfer as a request followed by its real fee, through the real services:
worker, drift monitor and retrainer, as separate processes on the local stack. Between two
windows the demo waits until every stage has caught up (results in, monitor and retrainer
consumer groups at the end of their topics), as months pass between real windows. At the
end every prediction is judged against its real fee, next to what the static 2012 model
says about the very same feature vectors.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeGuard
from uuid import UUID

from demo.lag import group_lag
from demo.prequential import Judged, Score, per_season, score
from demo.scenario import Scenario
from demo.tail import TopicTail
from devstack.services import Service, start_service
from modelstore.lifecycle import Registry
from modelstore.mlflow_registry import download_blob
from modelstore.signing import load_artifact
from producers.ingest import transfer_events
from producers.publisher import KafkaPublisher
from retrainer.initial import train_initial
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelRolledBack
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted
from schemas.topics import (
    MODELS_LIFECYCLE,
    MONITORING_DRIFT,
    PREDICTIONS_RESULTS,
    TRANSFERS_COMPLETED,
)
from stack.kafka_clients import make_producer
from stack.settings import Settings
from stack.topic_admin import ensure_topics

log = logging.getLogger(__name__)
STAGE_TIMEOUT_S = 900.0


@dataclass
class DemoReport:
    source: str
    prefix: str
    seasons: list[Score]
    overall: Score
    drift_events: list[dict[str, object]] = field(default_factory=list)
    promotions: list[dict[str, object]] = field(default_factory=list)
    rejections: list[dict[str, object]] = field(default_factory=list)
    rollbacks: list[dict[str, object]] = field(default_factory=list)
    requests: int = 0
    results: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "prefix": self.prefix,
            "requests": self.requests,
            "results": self.results,
            "elapsed_s": round(self.elapsed_s, 1),
            "overall": self.overall.as_dict(),
            "seasons": [s.as_dict() for s in self.seasons],
            "drift_events": self.drift_events,
            "promotions": self.promotions,
            "rejections": self.rejections,
            "rollbacks": self.rollbacks,
        }


def run_demo(
    settings: Settings,
    scenario: Scenario,
    out_dir: Path,
    on_window: Callable[[tuple[int, str], int, int], None] | None = None,
) -> DemoReport:
    """Run the scenario through live services under ``settings.topic_prefix``; write the report."""
    started = time.monotonic()
    ensure_topics(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    _publish(settings, scenario.history, as_requests=False)
    first = train_initial(settings, transfers=scenario.history_transfers)
    log.info("model version %s trained on seasons up to %d", first.version, scenario.base_until)
    topics = [settings.topic(t.name) for t in (PREDICTIONS_RESULTS, MODELS_LIFECYCLE, MONITORING_DRIFT)]
    services: list[Service] = []
    try:
        services = [
            start_service(settings, "worker-1", "worker", "--name", "demo-worker-1", log_dir=out_dir),
            start_service(settings, "monitor", "monitor", log_dir=out_dir),
            start_service(settings, "retrainer", "retrainer", log_dir=out_dir),
        ]
        with TopicTail(settings, topics, name="demo") as tail:
            windows = scenario.windows()
            asked: set[str] = set()
            during: dict[UUID, tuple[int, str]] = {}  # drift/lifecycle event id -> stream window
            for index, (window, events) in enumerate(windows, start=1):
                asked |= {f"replay-{e.transfer_id}" for e in events if _paid(e)}
                _publish(settings, events, as_requests=True)
                _wait_caught_up(settings, tail, asked, services)
                for seen in tail.snapshot():
                    if not isinstance(seen, PredictionResult):
                        during.setdefault(seen.event_id, window)
                if on_window is not None:
                    on_window(window, index, len(windows))
            events_seen = tail.snapshot()
    finally:
        for service in services:
            service.stop()
    report = _report(settings, scenario, first.version, events_seen, during, started)
    _write(report, out_dir)
    return report


def _paid(event: object) -> TypeGuard[TransferCompleted]:
    return isinstance(event, TransferCompleted) and event.fee_eur_m > 0


def _publish(settings: Settings, events: list, as_requests: bool) -> None:  # type: ignore[type-arg]
    publisher = KafkaPublisher(settings, make_producer(settings))
    for spec, event in transfer_events(events, as_requests):
        publisher.publish(spec, event)
        publisher.poll()
    publisher.close()


def _wait_caught_up(settings: Settings, tail: TopicTail, asked: set[str], services: list[Service]) -> None:
    """Every request answered, the monitor and the retrainer at the end of their inputs."""

    def answered(events: list) -> bool:  # type: ignore[type-arg]
        return asked <= {e.request_id for e in events if isinstance(e, PredictionResult)}

    if not tail.wait_until(answered, STAGE_TIMEOUT_S):
        _fail("requests were not all answered", services)
    stages = {
        f"{settings.topic_prefix}{settings.monitor_group_id}": [
            settings.topic(PREDICTIONS_RESULTS.name),
            settings.topic(TRANSFERS_COMPLETED.name),
        ],
        f"{settings.topic_prefix}mlops-fc-retrainer": [settings.topic(MONITORING_DRIFT.name)],
    }
    deadline = time.monotonic() + STAGE_TIMEOUT_S
    for group, group_topics in stages.items():
        # The lag is a broker-side count with no change notification: poll it.
        while group_lag(settings, group, group_topics) > 0:
            if time.monotonic() > deadline or not all(s.alive() for s in services):
                _fail(f"{group} did not catch up", services)
            time.sleep(0.2)


def _fail(what: str, services: list[Service]) -> None:
    logs = "\n".join(f"--- {s.name}\n{s.log_tail(20)}" for s in services)
    raise RuntimeError(f"demo stopped: {what}\n{logs}")


def _report(
    settings: Settings,
    scenario: Scenario,
    static_version: str,
    events: list,  # type: ignore[type-arg]
    during: dict[UUID, tuple[int, str]],
    started: float,
) -> DemoReport:
    registry = Registry.connect(settings, make_producer(settings), source="demo")
    static = load_artifact(
        download_blob(registry.client, registry.name, static_version), registry.signing_key
    )
    transfers = {
        e.transfer_id: e for e in scenario.stream if isinstance(e, TransferCompleted) and e.fee_eur_m > 0
    }
    results: dict[str, PredictionResult] = {}
    for event in events:
        if isinstance(event, PredictionResult) and event.transfer_id in transfers:
            results.setdefault(event.transfer_id, event)
    ok = [r for r in results.values() if r.status == "ok" and r.predicted_fee_eur_m is not None]
    import numpy as np

    matrix = np.array([[r.features[n] for n in static.feature_names] for r in ok], dtype=float)
    static_fees = np.maximum(np.expm1(static.predict(matrix)), 0.0) if ok else np.array([])
    judged = [
        Judged(
            season=transfers[r.transfer_id].season,  # type: ignore[index]
            fee_eur_m=transfers[r.transfer_id].fee_eur_m,  # type: ignore[index]
            live_eur_m=float(r.predicted_fee_eur_m or 0.0),
            static_eur_m=float(fee),
            live_version=r.model_version or "",
        )
        for r, fee in zip(ok, static_fees, strict=True)
    ]
    drifts = [e for e in events if isinstance(e, DriftDetected)]
    first_served = _first_served(events)
    report = DemoReport(
        source=scenario.source,
        prefix=settings.topic_prefix,
        seasons=per_season(judged),
        overall=score(judged),
        requests=len(transfers),
        results=len(results),
        elapsed_s=time.monotonic() - started,
    )
    by_trace = {d.trace_id: d for d in drifts}
    report.drift_events = [
        {
            "event_id": d.event_id,
            "kind": d.kind,
            "method": d.method,
            "model_version": d.model_version,
            "at": d.occurred_at.isoformat(),
            "during": "{} {}".format(*during[d.event_id]) if d.event_id in during else None,
            "season": during[d.event_id][0] if d.event_id in during else None,
            "share_drifted": d.share_drifted,
            "online_error": d.online_error,
            "reference_error": d.reference_error,
            "report_uri": d.report_uri,
        }
        for d in drifts
    ]
    for event in events:
        if isinstance(event, ModelPromoted):
            drift = by_trace.get(event.trace_id)
            served = first_served.get(event.version)
            report.promotions.append(
                {
                    "version": event.version,
                    "previous_version": event.previous_version,
                    "during": "{} {}".format(*during[event.event_id]) if event.event_id in during else None,
                    "season": during[event.event_id][0] if event.event_id in during else None,
                    "reason": event.reason,
                    "drift_event_id": drift.event_id if drift else None,
                    "drift_to_first_result_s": (served - drift.occurred_at).total_seconds()
                    if drift and served
                    else None,
                }
            )
        elif isinstance(event, ModelRejected):
            report.rejections.append(
                {
                    "version": event.version,
                    "reason": event.reason,
                    "season": during.get(event.event_id, (None,))[0],
                }
            )
        elif isinstance(event, ModelRolledBack):
            report.rollbacks.append(
                {"from": event.from_version, "to": event.to_version, "reason": event.reason}
            )
    return report


def _first_served(events: list) -> dict[str, datetime]:  # type: ignore[type-arg]
    first: dict[str, datetime] = {}
    for event in events:
        if isinstance(event, PredictionResult) and event.model_version and event.status == "ok":
            at = event.occurred_at
            if event.model_version not in first or at < first[event.model_version]:
                first[event.model_version] = at
    return first


def _write(report: DemoReport, out_dir: Path) -> None:
    (out_dir / "report.json").write_text(json.dumps(report.as_dict(), indent=2, default=str))
    _plot(report, out_dir / "report.png")


def _plot(report: DemoReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seasons = [s.season for s in report.seasons]
    fig, (mae, r2) = plt.subplots(1, 2, figsize=(12, 4.5))
    mae.plot(seasons, [s.live_mae_eur_m for s in report.seasons], marker="o", label="live (retrains itself)")
    mae.plot(seasons, [s.static_mae_eur_m for s in report.seasons], marker="s", label="static 2012 model")
    mae.set(title="Prequential MAE per season", xlabel="season", ylabel="MAE (EUR millions)")
    r2.plot(seasons, [s.live_r2_log for s in report.seasons], marker="o", label="live")
    r2.plot(seasons, [s.static_r2_log for s in report.seasons], marker="s", label="static 2012 model")
    r2.set(title="R² on log fee per season", xlabel="season", ylabel="R²")
    for promotion in report.promotions:
        if promotion.get("drift_event_id") is not None and promotion.get("season") is not None:
            for axis in (mae, r2):
                axis.axvline(float(promotion["season"]), color="grey", linestyle=":", linewidth=1)  # type: ignore[arg-type]
    mae.legend()
    r2.legend()
    fig.suptitle(f"mlops-fc demo on {report.source} data ({datetime.now(UTC):%Y-%m-%d}); dotted: promotions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
