"""A model version's lineage: drift event -> training run -> MLflow version -> verdict -> serving.

Pure: from what the facade already holds (the registry's view of the version with its run's
parameters, the timeline of models.lifecycle and monitoring.drift events, and the label
health the drift monitor writes to Redis) it assembles one JSON-ready answer. The retrainer
logs the drift event that triggered a run as the run's ``trigger_event_id`` parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schemas.envelope import Event
from schemas.lifecycle import ModelPromoted, ModelRegistered, ModelRejected, ModelRolledBack, ModelShadowed
from schemas.monitoring import DriftDetected

PARAM_TRIGGER = "trigger_event_id"  # retrainer.handler logs it (consumers never import retrainer)


def _drift(event: DriftDetected) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "kind": event.kind,
        "method": event.method,
        "model_version": event.model_version,
        "window_size": event.window_size,
        "share_drifted": event.share_drifted,
        "scores_top": dict(sorted(event.scores.items(), key=lambda kv: kv[1], reverse=True)[:3]),
        "occurred_at": event.occurred_at.isoformat(),
    }


def _step(event: Event, version: str) -> dict[str, Any] | None:
    """One lifecycle event about ``version`` as a lineage step; None when it is not about it."""
    evidence = getattr(event, "evidence", None)
    base: dict[str, Any] = {"event": event.event_type, "occurred_at": event.occurred_at.isoformat()}
    if evidence is not None:
        base["evidence"] = evidence.model_dump(mode="json")
    if isinstance(event, ModelRegistered) and event.version == version:
        return {**base, "step": "registered", "run_id": event.run_id, "train_rows": event.train_rows}
    if isinstance(event, ModelShadowed) and event.version == version:
        return {**base, "step": "shadow", "against": event.champion_version, "reason": event.reason}
    if isinstance(event, ModelPromoted) and event.version == version:
        return {**base, "step": "promoted", "previous": event.previous_version, "reason": event.reason}
    if isinstance(event, ModelRejected) and event.version == version:
        return {**base, "step": "rejected", "reason": event.reason}
    if isinstance(event, ModelRolledBack) and event.from_version == version:
        return {**base, "step": "rolled back from", "to": event.to_version, "reason": event.reason}
    if isinstance(event, ModelRolledBack) and event.to_version == version:
        return {**base, "step": "rolled back to", "from": event.from_version, "reason": event.reason}
    return None


def lineage(
    version: str,
    registered: Mapping[str, Any],
    params: Mapping[str, str],
    timeline: Iterable[Event],
    health: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The whole story of ``version``; ``timeline`` oldest first."""
    events = list(timeline)
    trigger = params.get(PARAM_TRIGGER)
    drift = next(
        (e for e in events if isinstance(e, DriftDetected) and trigger and str(e.event_id) == trigger), None
    )
    steps = [s for s in (_step(e, version) for e in events) if s is not None]
    verdict = next((s for s in reversed(steps) if s["step"] in ("promoted", "rejected")), None)
    return {
        "version": version,
        "drift_event": None if drift is None else _drift(drift),
        "trigger": {
            "event_id": trigger,
            "kind": params.get("trigger_kind") or params.get("trigger"),
            "drifted_version": params.get("drifted_version"),
            "found_in_timeline": drift is not None,
        },
        "training_run": {"run_id": registered.get("run_id"), "params": dict(params)},
        "mlflow_version": {
            key: registered.get(key)
            for key in ("version", "created", "metrics", "aliases", "champion", "outcome")
        },
        "verdict": verdict,
        "steps": steps,
        "health": dict(health) if health is not None else None,
    }


def lineage_labels(timeline: Iterable[Event]) -> dict[str, dict[str, str]]:
    """Per version seen on the timeline (oldest first): its run and its latest verdict."""
    out: dict[str, dict[str, str]] = {}
    for event in timeline:
        if isinstance(event, ModelRegistered):
            out.setdefault(event.version, {})["run_id"] = event.run_id
        elif isinstance(event, ModelShadowed):
            out.setdefault(event.version, {})["verdict"] = "shadow"
        elif isinstance(event, ModelPromoted):
            out.setdefault(event.version, {})["verdict"] = "promoted"
        elif isinstance(event, ModelRejected):
            out.setdefault(event.version, {})["verdict"] = "rejected"
        elif isinstance(event, ModelRolledBack):
            out.setdefault(event.from_version, {})["verdict"] = "rolled back"
            out.setdefault(event.to_version, {})["verdict"] = "promoted (rollback)"
    return out
