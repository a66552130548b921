"""In-memory fakes of the facade's ports, for unit tests of the routes (no Kafka, no Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from api.metrics import ApiMetrics
from api.ports import Services
from api.serving import ServingView
from consumers.messages import Shown, spec_named
from consumers.replica import Replica
from consumers.result_store import InMemoryResultStore
from modelstore.exceptions import ArtifactNotFoundError
from schemas.predictions import PredictionRequest, PredictionResult
from stack.settings import Settings


def answer(request: PredictionRequest, fee: float = 12.5) -> PredictionResult:
    return PredictionResult(
        source="inference-worker/fake",
        request_id=request.request_id,
        player_id=request.player_id,
        status="ok",
        predicted_fee_eur_m=fee,
        model_name="transfer-fee",
        model_version="1",
        timings={"total": 3.0},
    )


@dataclass
class FakePredictor:
    store: InMemoryResultStore
    answering: bool = True  # False: every request times out
    asked: list[PredictionRequest] = field(default_factory=list)
    in_flight: int = 0

    async def ask_many(
        self, requests: list[PredictionRequest], timeout_s: float, check_store: bool = True
    ) -> list[PredictionResult | None]:
        self.asked.extend(requests)
        if not self.answering:
            return [None] * len(requests)
        answered = [answer(r) for r in requests]
        self.store.put_many(answered)
        return [*answered]

    def pending(self, request_id: str) -> bool:
        return not self.answering and any(r.request_id == request_id for r in self.asked)


@dataclass
class FakeModels:
    champion: str | None = "2"
    known: tuple[str, ...] = ("1", "2")
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    in_shadow: dict[str, Any] | None = None

    def shadow(self) -> dict[str, Any] | None:
        return self.in_shadow

    def versions(self) -> list[dict[str, Any]]:
        return [{"version": v, "champion": v == self.champion, "metrics": {}} for v in self.known]

    def current(self) -> dict[str, Any] | None:
        return None if self.champion is None else {"version": self.champion}

    def serving_version(self) -> str | None:
        return self.champion

    def champion_version(self) -> str | None:
        return self.champion

    def promote(self, version: str, reason: str) -> dict[str, Any]:
        if version not in self.known:
            raise ArtifactNotFoundError(f"no version {version}")
        self.changes.append(("promote", version, reason))
        self.champion = version
        return {"event_type": "ModelPromoted", "version": version, "reason": reason}

    def version_detail(self, version: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        listed = {v["version"]: v for v in self.versions()}
        if version not in listed:
            return None
        return {**listed[version], "run_id": f"run-{version}"}, {"trigger_event_id": f"drift-{version}"}

    def rollback(self, version: str, reason: str) -> dict[str, Any]:
        if self.champion is None:
            raise ValueError("there is no champion to roll back from")
        if version not in self.known:
            raise ArtifactNotFoundError(f"no version {version}")
        self.changes.append(("rollback", version, reason))
        self.champion = version
        return {"event_type": "ModelRolledBack", "to_version": version, "reason": reason}


class FakeFlows:
    def snapshot(self) -> dict[str, Any]:
        return {"topics": [], "groups": [], "graph": {"nodes": [], "edges": []}, "sampled_at": None}

    def lag_by_group(self) -> list[tuple[str, str, int]]:
        return [("g", "predictions.requests", 3)]


def fake_peek(settings: Settings, name: str, limit: int = 20) -> list[Shown]:
    spec_named(name)  # raises UnknownTopicError like the real one
    return []


class FakeReadiness:
    def __init__(self, kafka: bool = True) -> None:
        self.up = kafka
        self.alive = {"results_reader": True, "replica_reader": True}

    def kafka(self) -> bool:
        return self.up

    def readers(self) -> dict[str, bool]:
        return {"results": True, "replica": True}

    def threads(self) -> dict[str, bool]:
        return dict(self.alive)


@dataclass
class FakeServing:
    """The serving watch's view, set by the test (unchecked: readiness uses the pointer)."""

    view: ServingView = field(default_factory=ServingView)


def fake_services(settings: Settings, metrics: ApiMetrics, **overrides: Any) -> Services:
    store = InMemoryResultStore()
    parts: dict[str, Any] = {
        "settings": settings,
        "predictor": FakePredictor(store),
        "store": store,
        "replica": Replica(),
        "models": FakeModels(),
        "flows": FakeFlows(),
        "peek": fake_peek,
        "readiness": FakeReadiness(),
        "metrics": metrics,
        "serving": FakeServing(),
    }
    parts.update(overrides)
    return Services(**parts)


def fake_build(**overrides: Any):  # noqa: ANN201 - the app's Build callable
    @asynccontextmanager
    async def build(settings: Settings, metrics: ApiMetrics) -> AsyncIterator[Services]:
        yield fake_services(settings, metrics, **overrides)

    return build
