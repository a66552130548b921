"""The model registry as the facade shows and changes it: MLflow versions, champion, Redis pointer.

Promotion and rollback go through modelstore.lifecycle.Registry, the same code path as the
retrainer and `mlops-fc model`, so workers swap on the lifecycle event it publishes.
MLflow is imported when the facade starts, never at import time of this module.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from consumers.result_store import redis_errors
from stack.settings import Settings


class MlflowModels:
    def __init__(self, settings: Settings) -> None:
        from modelstore.lifecycle import Registry
        from stack.kafka_clients import make_producer

        self.registry = Registry.connect(settings, make_producer(settings), source="api")
        self._changing = threading.Lock()  # one promotion or rollback at a time per process
        self._params: dict[str, dict[str, str]] = {}

    def versions(self) -> list[dict[str, Any]]:
        from modelstore.mlflow_registry import list_versions, version_tags

        registry = self.registry
        champion = registry.champion()
        out = []
        for info in list_versions(registry.client, registry.name):
            tags = version_tags(registry.client, registry.name, info.version)
            out.append(
                {
                    "version": info.version,
                    "created": info.created.isoformat(),
                    "run_id": info.run_id,
                    "metrics": info.metrics,
                    "aliases": list(info.aliases),
                    "champion": info.version == champion,
                    "servable": info.sha256 is not None,
                    "outcome": tags.get("mlfc.outcome"),
                }
            )
        return out

    def version_detail(self, version: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        """The version as listed, with its run's parameters (cached: a run's params never change)."""
        from modelstore.mlflow_registry import run_params

        listed = {v["version"]: v for v in self.versions()}
        found = listed.get(version)
        if found is None:
            return None
        params = self._params.get(version)
        if params is None:
            params = self._params[version] = run_params(self.registry.client, found.get("run_id"))
        return found, params

    def current(self) -> dict[str, Any] | None:
        champion = self.registry.champion()
        if champion is None:
            return None
        listed = {v["version"]: v for v in self.versions()}
        serving = self.serving_version()
        return {**listed.get(champion, {"version": champion}), "model_name": self.registry.name,
                "redis_current": serving}  # fmt: skip

    def serving_version(self) -> str | None:
        with redis_errors("reading the current model pointer"):
            return self.registry.cache.current_version(self.registry.name)

    def champion_version(self) -> str | None:
        return self.registry.champion()

    def shadow(self) -> dict[str, Any] | None:
        """The model scoring in shadow now, its role, and the labelled pairs judged so far."""
        registry = self.registry
        with redis_errors("reading the shadow slot"):
            pointer = registry.current_shadow()
            if pointer is None:
                return None
            pairs = registry.cache.shadow_pairs(registry.name, pointer.session)
        return {
            "version": pointer.version,
            "role": pointer.role,
            "champion": pointer.champion,
            "since": datetime.fromtimestamp(pointer.since, UTC).isoformat(),
            "pairs": pairs,
        }

    def promote(self, version: str, reason: str) -> dict[str, Any]:
        with self._changing, redis_errors("publishing the model"):
            event = self.registry.promote_existing(version, reason=reason)
        return event.model_dump(mode="json")

    def rollback(self, version: str, reason: str) -> dict[str, Any]:
        with self._changing, redis_errors("moving the model pointer"):
            event = self.registry.rollback(version, reason=reason)
        return event.model_dump(mode="json")
