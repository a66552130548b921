"""The main job's final report: every prediction judged against its real fee, next to what
the static first model says about the very same feature vectors; written as JSON and PNG."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np

from demo.coverage import interval_coverage
from demo.prequential import Judged, Score, per_season, score
from demo.scenario import Scenario
from modelstore.lifecycle import Registry
from modelstore.mlflow_registry import download_blob
from modelstore.signing import load_artifact
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelRolledBack
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted
from stack.kafka_clients import make_producer
from stack.settings import Settings


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
    windows: list[dict[str, object]] = field(default_factory=list)  # per window: MAE so far, stage times
    interval_coverage: dict[str, object] = field(default_factory=dict)  # overall and per season
    startup_s: dict[str, float] = field(default_factory=dict)  # history published, first model
    requests: int = 0
    results: int = 0
    elapsed_s: float = 0.0
    # the season files' match (demo.scenario.RecordMatch) and the share of answered
    # requests whose vector had a record
    records: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "prefix": self.prefix,
            "requests": self.requests,
            "results": self.results,
            "elapsed_s": round(self.elapsed_s, 1),
            "records": self.records,
            "overall": self.overall.as_dict(),
            "seasons": [s.as_dict() for s in self.seasons],
            "drift_events": self.drift_events,
            "promotions": self.promotions,
            "rejections": self.rejections,
            "rollbacks": self.rollbacks,
            "windows": self.windows,
            "interval_coverage": self.interval_coverage,
            "startup_s": self.startup_s,
        }


def load_static(settings: Settings, version: str) -> Any:
    """The first model, as the registry keeps it: the yardstick that never learns."""
    registry = Registry.connect(settings, make_producer(settings), source="demo")
    return load_artifact(download_blob(registry.client, registry.name, version), registry.signing_key)


def build_report(
    settings: Settings,
    scenario: Scenario,
    static_version: str,
    events: list,  # type: ignore[type-arg]
    during: dict[UUID, tuple[int, str]],
    started: float,
) -> DemoReport:
    """Scores per season (live and static), the record match, and every drift event and decision."""
    transfers = {
        e.transfer_id: e for e in scenario.stream if isinstance(e, TransferCompleted) and e.fee_eur_m > 0
    }
    results: dict[str, PredictionResult] = {}
    for event in events:
        if isinstance(event, PredictionResult) and event.transfer_id in transfers:
            results.setdefault(event.transfer_id, event)
    ok = [r for r in results.values() if r.status == "ok" and r.predicted_fee_eur_m is not None]
    judged = _judged(load_static(settings, static_version), ok, transfers)
    report = DemoReport(
        source=scenario.source,
        prefix=settings.topic_prefix,
        seasons=per_season(judged),
        overall=score(judged),
        requests=len(transfers),
        results=len(results),
        elapsed_s=time.monotonic() - started,
        interval_coverage=interval_coverage(ok, transfers),
    )
    with_record = sum(r.features.get("has_record", 0.0) > 0 for r in ok)
    report.records = {
        **scenario.records.as_dict(),
        "request_record_share": round(with_record / len(ok), 4) if ok else 0.0,
    }
    drifts = [e for e in events if isinstance(e, DriftDetected)]
    report.drift_events = [_drift_row(d, during) for d in drifts]
    _add_decisions(report, events, {d.trace_id: d for d in drifts}, during)
    return report


def _judged(static: Any, ok: list[PredictionResult], transfers: dict[str, TransferCompleted]) -> list[Judged]:
    """Each answered request with its real fee, the live prediction and the static model's on
    the very same served vector."""
    matrix = np.array([[r.features[n] for n in static.feature_names] for r in ok], dtype=float)
    static_fees = np.maximum(np.expm1(static.predict(matrix)), 0.0) if ok else np.array([])
    return [
        Judged(
            season=transfers[r.transfer_id].season,  # type: ignore[index]
            fee_eur_m=transfers[r.transfer_id].fee_eur_m,  # type: ignore[index]
            live_eur_m=float(r.predicted_fee_eur_m or 0.0),
            static_eur_m=float(fee),
            live_version=r.model_version or "",
        )
        for r, fee in zip(ok, static_fees, strict=True)
    ]


def _drift_row(drift: DriftDetected, during: dict[UUID, tuple[int, str]]) -> dict[str, object]:
    return {
        "event_id": drift.event_id,
        "kind": drift.kind,
        "method": drift.method,
        "model_version": drift.model_version,
        "at": drift.occurred_at.isoformat(),
        **_when(drift.event_id, during),
        "share_drifted": drift.share_drifted,
        "online_error": drift.online_error,
        "reference_error": drift.reference_error,
        "report_uri": drift.report_uri,
    }


def _add_decisions(
    report: DemoReport,
    events: list,  # type: ignore[type-arg]
    by_trace: dict[str, DriftDetected],
    during: dict[UUID, tuple[int, str]],
) -> None:
    """Promotions, rejections and rollbacks, each with its window, evidence and drift event."""
    first_served = _first_served(events)
    for event in events:
        if isinstance(event, ModelPromoted):
            drift = by_trace.get(event.trace_id)
            served = first_served.get(event.version)
            report.promotions.append(
                {
                    "version": event.version,
                    "previous_version": event.previous_version,
                    **_when(event.event_id, during),
                    "reason": event.reason,
                    "evidence": _evidence(event),
                    "drift_event_id": drift.event_id if drift else None,
                    "drift_to_first_result_s": (served - drift.occurred_at).total_seconds()
                    if drift and served
                    else None,
                }
            )
        elif isinstance(event, ModelRejected):
            drift = by_trace.get(event.trace_id)
            report.rejections.append(
                {
                    "version": event.version,
                    **_when(event.event_id, during),
                    "reason": event.reason,
                    "evidence": _evidence(event),
                    "drift_event_id": drift.event_id if drift else None,
                }
            )
        elif isinstance(event, ModelRolledBack):
            report.rollbacks.append(
                {
                    "from": event.from_version,
                    "to": event.to_version,
                    **_when(event.event_id, during),
                    "reason": event.reason,
                    "evidence": _evidence(event),
                }
            )


def _when(event_id: UUID, during: dict[UUID, tuple[int, str]]) -> dict[str, object]:
    """The transfer window a decision came in (the one the job was waiting on), and its season."""
    if event_id not in during:
        return {"during": None, "season": None}
    season, window = during[event_id]
    return {"during": f"{season} {window}", "season": season}


def _evidence(event: ModelPromoted | ModelRejected | ModelRolledBack) -> dict[str, object] | None:
    """What a decision was taken on: the shadow judgement or the holdout gate (None: by hand)."""
    return None if event.evidence is None else event.evidence.model_dump()


def _first_served(events: list) -> dict[str, datetime]:  # type: ignore[type-arg]
    first: dict[str, datetime] = {}
    for event in events:
        if isinstance(event, PredictionResult) and event.model_version and event.status == "ok":
            at = event.occurred_at
            if event.model_version not in first or at < first[event.model_version]:
                first[event.model_version] = at
    return first


def write_report(report: DemoReport, out_dir: Path) -> None:
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
        # Every promotion that replaced a model (shadow verdicts carry no drift event id).
        if promotion.get("previous_version") is not None and promotion.get("season") is not None:
            for axis in (mae, r2):
                axis.axvline(float(promotion["season"]), color="grey", linestyle=":", linewidth=1)  # type: ignore[arg-type]
    mae.legend()
    r2.legend()
    fig.suptitle(f"mlops-fc demo on {report.source} data ({datetime.now(UTC):%Y-%m-%d}); dotted: promotions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
