"""The handler's ports on the real stack: MLflow versions, the Redis model cache and clock,
and the challenger trained on the whole of transfers.completed."""

from __future__ import annotations

import logging
import threading
import time
from typing import cast

import redis
from pydantic import ValidationError

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
from retrainer.handler import PARAM_EVIDENCE, PARAM_TRIGGER, TAG_OUTCOME
from retrainer.history import HistoryReader
from retrainer.ports import Decision, OutcomeStatus
from retrainer.replay import HistoryReplay
from retrainer.window import TrainingWindow
from schemas.evidence import HoldoutEvidence
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

    def gate_evidence(self, version: str) -> HoldoutEvidence | None:
        run_id = self.registry.client.get_model_version(self.registry.name, version).run_id
        raw = run_params(self.registry.client, run_id).get(PARAM_EVIDENCE)
        try:
            return None if raw is None else HoldoutEvidence.model_validate_json(raw)
        except ValidationError as exc:  # logged by another release: the reason still says why
            log.warning(
                "version %s: unreadable %s param, announced without it: %s", version, PARAM_EVIDENCE, exc
            )
            return None

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
        self.replay = HistoryReplay()  # and replays what is new on top of the last replay
        self._busy = threading.Lock()  # one reader of the history at a time: a retrain or prepare()

    def prepare(self) -> None:
        """Read and replay the history published so far, ahead of the next retrain.

        Between drift events the retrainer is idle while the services work through a window:
        reading and replaying then leaves a retrain only what came since. The frame a retrain
        trains on is the same either way (the replay of everything up to its read).
        """
        with self._busy:
            stats, transfers, _ = self.history.read_parts()
            self.replay.update(stats, transfers)

    def challenge(self, champion: ModelArtifact | None, tags: dict[str, str]) -> tuple[Comparison, int]:
        with self._busy:
            return self._challenge(champion, tags)

    def _challenge(self, champion: ModelArtifact | None, tags: dict[str, str]) -> tuple[Comparison, int]:
        started = time.monotonic()
        stats, transfers, undecodable = self.history.read_parts()
        frame = self.replay.frame(stats, transfers)
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
