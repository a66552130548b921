"""What the routes depend on: small protocols, real adapters in bootstrap.py, fakes in unit tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from api.metrics import ApiMetrics
from api.serving import ServingView
from consumers.messages import Shown
from consumers.replica import Replica
from consumers.result_store import ResultStore
from schemas.predictions import PredictionRequest, PredictionResult
from stack.settings import Settings


class Predictor(Protocol):
    """Request-reply over Kafka (consumers.correlator.Correlator)."""

    @property
    def in_flight(self) -> int:
        """Requests awaiting their result."""
        ...

    async def ask_many(
        self, requests: list[PredictionRequest], timeout_s: float, check_store: bool = True
    ) -> list[PredictionResult | None]: ...

    def pending(self, request_id: str) -> bool:
        """Whether this process published the request and its result has not come yet."""
        ...


class Models(Protocol):
    """The registry (consumers.models_view.MlflowModels); blocking calls, run in a thread."""

    def versions(self) -> list[dict[str, Any]]: ...

    def current(self) -> dict[str, Any] | None: ...

    def serving_version(self) -> str | None:
        """The Redis ``current`` pointer (what promotion last published)."""
        ...

    def champion_version(self) -> str | None:
        """The registry's champion alias."""
        ...

    def promote(self, version: str, reason: str) -> dict[str, Any]: ...

    def rollback(self, version: str, reason: str) -> dict[str, Any]: ...

    def shadow(self) -> dict[str, Any] | None:
        """The shadow slot (version, role, champion, since) and its labelled pairs so far."""
        ...

    def version_detail(self, version: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        """(the version as ``versions()`` lists it, its training run's parameters); None if unknown."""
        ...


class FlowsView(Protocol):
    def snapshot(self) -> dict[str, Any]: ...

    def lag_by_group(self) -> list[tuple[str, str, int]]: ...


class Peek(Protocol):
    """The latest messages of a catalogue topic (consumers.messages.latest); blocking."""

    def __call__(self, settings: Settings, name: str, limit: int = 20) -> list[Shown]: ...


class Readiness(Protocol):
    def kafka(self) -> bool: ...

    def readers(self) -> dict[str, bool]:
        """Each background reader: working (alive, not retrying), and caught up for the replica."""
        ...

    def threads(self) -> dict[str, bool]:
        """Each background thread the facade depends on: alive (a dead one fails /healthz)."""
        ...


class Serving(Protocol):
    """The champion against the workers (api.serving.ServingWatch)."""

    @property
    def view(self) -> ServingView: ...


@dataclass
class Services:
    """Everything the routes use, built once at start-up (or as fakes by a unit test)."""

    settings: Settings
    predictor: Predictor
    store: ResultStore
    replica: Replica
    models: Models
    flows: FlowsView
    peek: Peek
    readiness: Readiness
    metrics: ApiMetrics
    serving: Serving
    # per model version, the label health the drift monitor writes to Redis (blocking)
    label_health: Callable[[], dict[str, dict[str, Any]]] = field(default=dict)

    @property
    def reports_dir(self) -> Path:
        return self.settings.state_dir / "reports"
