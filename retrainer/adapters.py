"""The handler's ports on the real stack: MLflow versions, the Redis model cache and clock,
and the challenger trained on the whole of transfers.completed."""

from __future__ import annotations

import logging
import time
from typing import cast

import pandas as pd
import redis

from features.training_set import TrainingSetBuilder
from features.update import PlayerEvent
from modelstore.artifact import ModelArtifact
from modelstore.lifecycle import Registry
from modelstore.mlflow_registry import (
    ensure_experiment,
    list_versions,
    remove_half_registered,
    run_params,
    set_version_tag,
    version_tags,
)
from modelstore.signing import load_artifact
from retrainer.challenger import Comparison, compare
from retrainer.handler import PARAM_TRIGGER, TAG_OUTCOME
from retrainer.history import HistoryReader
from retrainer.ports import Decision, OutcomeStatus
from retrainer.window import TrainingWindow
from stack.settings import Settings

log = logging.getLogger(__name__)
OUTCOMES: tuple[OutcomeStatus, ...] = ("promoted", "shadowed", "rejected", "skipped")


class MlflowVersions:
    """VersionRegistry over the MLflow registry of the lifecycle Registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def remove_half_registered(self) -> list[str]:
        registry = self.registry
        experiment = ensure_experiment(
            registry.client, registry.name, registry.settings.mlflow_artifacts / registry.name
        )
        return remove_half_registered(registry.client, registry.name, experiment)

    def version_for_trigger(self, event_id: str) -> str | None:
        for info in list_versions(self.registry.client, self.registry.name):
            if run_params(self.registry.client, info.run_id).get(PARAM_TRIGGER) == event_id:
                return info.version
        return None

    def outcome(self, version: str) -> OutcomeStatus | None:
        tag = version_tags(self.registry.client, self.registry.name, version).get(TAG_OUTCOME)
        if tag is None:
            return None
        # Any tag means the trigger was answered; an unknown one reads as not serving.
        return cast(OutcomeStatus, tag) if tag in OUTCOMES else "rejected"

    def decision(self, version: str) -> tuple[Decision, str]:
        run_id = self.registry.client.get_model_version(self.registry.name, version).run_id
        params = run_params(self.registry.client, run_id)
        found = params.get("decision")
        decision: Decision = found if found in ("promote", "shadow") else "reject"  # type: ignore[assignment]
        return decision, params.get("reason", "decided before a restart")

    def record_outcome(self, version: str, status: OutcomeStatus) -> None:
        set_version_tag(self.registry.client, self.registry.name, version, TAG_OUTCOME, status)

    def champion(self) -> str | None:
        return self.registry.champion()


class RedisChampion:
    """ChampionCache: the current blob in Redis, verified with the signing key."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def champion_artifact(self) -> ModelArtifact | None:
        found = self.registry.cache.fetch_current(self.registry.name)
        if found is None:
            return None
        return load_artifact(found[1], self.registry.signing_key)


class RedisCooldown:
    """Cooldown: the time of the last retrain under one Redis key."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client = client
        self.key = key

    def last_retrain_at(self) -> float | None:
        raw = self.client.get(self.key)
        return None if raw is None else float(cast(bytes, raw))

    def mark_retrain(self, at: float) -> None:
        self.client.set(self.key, at)


class HistoryChallengers:
    """Challengers trained on the season records and transfers.completed replayed from the start."""

    def __init__(self, settings: Settings, window: TrainingWindow) -> None:
        self.settings = settings
        self.window = window
        self.history = HistoryReader(settings)  # keeps what it read: later retrains read what is new
        self._replayed: list[PlayerEvent] = []
        self._builder = TrainingSetBuilder()

    def challenge(self, champion: ModelArtifact | None, tags: dict[str, str]) -> tuple[Comparison, int]:
        started = time.monotonic()
        events, undecodable = self.history.read()  # season records, then transfers
        frame = self._training_set(events)
        log.info(
            "drift event %s: training a challenger on %d paid transfers (window %s, champion %s; "
            "history read in %.1fs)",
            tags.get(PARAM_TRIGGER),
            len(frame),
            self.window,
            champion.version if champion else None,
            time.monotonic() - started,
        )
        comparison = compare(
            frame,
            champion,
            self.settings.model_name,
            self.window,
            self.settings.retrain_holdout_rows,
            self.settings.retrain_margin,
            tags=tags,
        )
        return comparison, undecodable

    def _training_set(self, events: list[PlayerEvent]) -> pd.DataFrame:
        """build_training_set(events), replaying only the events after those of the last call.

        Later events extend the last replay when the history read before is still the start
        of this one (same events, same order: nothing arrived out of order); otherwise the
        whole history is replayed again.
        """
        done = self._replayed
        extends = len(done) <= len(events) and all(a is b for a, b in zip(done, events, strict=False))
        if not extends:
            self._builder = TrainingSetBuilder()
            done = []
        self._builder.extend(events[len(done) :])
        self._replayed = list(events)
        return self._builder.frame()
