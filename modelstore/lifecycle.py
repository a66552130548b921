"""Register, promote and roll back: MLflow alias, Redis artifact and lifecycle event together.

Order matters for the workers: the signed blob is in Redis and the pointer moved before the
lifecycle event is published, so a worker that reacts to the event finds what it names. A
version taken back from MLflow (promote_existing, rollback) is verified as the workers would
verify it before anything moves: a tampered artifact raises PromotionRefusedError instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from confluent_kafka import Producer
from mlflow import MlflowClient

from modelstore.artifact import ModelArtifact
from modelstore.exceptions import ArtifactSignatureError, PromotionRefusedError
from modelstore.mlflow_registry import (
    TAG_VERDICT,
    RegisteredArtifact,
    champion_version,
    download_blob,
    ensure_experiment,
    log_and_register,
    set_champion,
    set_version_tag,
    version_tags,
)
from modelstore.redis_cache import ModelCache
from modelstore.shadow import ShadowPointer, ShadowSlot
from modelstore.shadow_reconcile import Reconciled, reconcile
from modelstore.signing import blob_sha256
from modelstore.verify import verify_servable
from schemas.codec import encode
from schemas.envelope import Event
from schemas.evidence import DecisionEvidence, ShadowEvidence
from schemas.lifecycle import ModelPromoted, ModelRegistered, ModelRejected, ModelRolledBack, ModelShadowed
from schemas.topics import MODELS_LIFECYCLE
from stack.redis_clients import redis_client
from stack.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Registry:
    """The three places a model lives, wired once at start-up."""

    settings: Settings
    client: MlflowClient
    cache: ModelCache
    producer: Producer
    source: str = "retrainer"  # who acts: the envelope's source of each lifecycle event

    @classmethod
    def connect(cls, settings: Settings, producer: Producer, source: str = "retrainer") -> Registry:
        client = MlflowClient(tracking_uri=settings.mlflow_uri)
        cache = ModelCache(redis_client(settings), prefix=settings.topic_prefix)
        return cls(settings, client, cache, producer, source)

    @property
    def name(self) -> str:
        return self.settings.model_name

    @property
    def signing_key(self) -> bytes:
        return self.settings.model_signing_key.get_secret_value().encode()

    def champion(self) -> str | None:
        return champion_version(self.client, self.name)

    def register(
        self,
        artifact: ModelArtifact,
        run_name: str,
        params: Mapping[str, object],
        metrics: dict[str, float] | None = None,
        trace_id: str | None = None,
    ) -> RegisteredArtifact:
        experiment = ensure_experiment(self.client, self.name, self.settings.mlflow_artifacts / self.name)
        registered = log_and_register(
            self.client,
            artifact,
            self.signing_key,
            experiment_id=experiment,
            run_name=run_name,
            params=params,
            metrics=metrics,
        )
        meta = artifact.metadata
        self.emit(
            ModelRegistered(
                source=self.source,
                model_name=self.name,
                version=registered.version,
                run_id=registered.run_id,
                metrics={**meta.metrics, **(metrics or {})},
                train_from=meta.train_from,
                train_to=meta.train_to,
                train_rows=meta.train_rows,
            ),
            trace_id,
        )
        return registered

    @property
    def shadows(self) -> ShadowSlot:
        return self.cache.shadow_slot(self.name)

    def promote(
        self,
        registered: RegisteredArtifact,
        reason: str,
        trace_id: str | None = None,
        evidence: DecisionEvidence | None = None,
    ) -> ModelPromoted:
        """Serve a version just registered (its blob in hand) and announce it."""
        event = self.promotion_of(registered.version, registered.blob, reason, evidence)
        self.apply_promotion(event, registered.blob)
        self.emit(event, trace_id)
        return event

    def promote_existing(
        self,
        version: str,
        reason: str,
        evidence: DecisionEvidence | None = None,
        trace_id: str | None = None,
    ) -> ModelPromoted:
        """Promote a registered version (by hand, on shadow evidence, or after a restart): its blob comes back
        from MLflow, verified."""
        blob = self.verified_blob(version)
        event = self.promotion_of(version, blob, reason, evidence)
        self.apply_promotion(event, blob)
        self.emit(event, trace_id)
        return event

    def promotion_of(
        self, version: str, blob: bytes, reason: str, evidence: DecisionEvidence | None = None
    ) -> ModelPromoted:
        """The ModelPromoted a promotion of ``version`` from the champion now would announce."""
        return ModelPromoted(
            source=self.source,
            model_name=self.name,
            version=version,
            previous_version=self.champion(),
            artifact_key=self.cache.key(self.name, version),
            artifact_sha256=blob_sha256(blob),
            reason=reason,
            evidence=evidence,
        )

    def apply_promotion(self, event: ModelPromoted, blob: bytes) -> None:
        """Everything a promotion moves, in the workers' order, without announcing it."""
        self.cache.publish(self.name, blob, event.version)
        set_champion(self.client, self.name, event.version)
        self._guard(event.previous_version, event.version)

    def shadow(
        self, registered: RegisteredArtifact, reason: str, trace_id: str | None = None
    ) -> ModelShadowed:
        """Put a challenger in shadow: its verified blob in Redis, the shadow slot pointing at it.

        One shadow at a time: an undecided challenger in the slot is replaced, and the event
        says which; a guard (the champion before the last promotion) gives way as well.
        """
        verify_servable(registered.blob, self.signing_key, self.name, registered.version)
        return self._shadow(registered.version, registered.blob, reason, trace_id)

    def shadow_existing(self, version: str, reason: str) -> ModelShadowed:
        """Put a registered version in shadow (after a restart): its blob from MLflow, verified."""
        return self._shadow(version, self.verified_blob(version), reason, None)

    def current_shadow(self) -> ShadowPointer | None:
        return self.shadows.get()

    def shadow_version(self) -> str | None:
        """The challenger in shadow now, if any (a guard is not a challenger)."""
        pointer = self.shadows.get()
        return pointer.version if pointer is not None and pointer.role == "challenger" else None

    def _shadow(self, version: str, blob: bytes, reason: str, trace_id: str | None) -> ModelShadowed:
        champion = self.champion()
        if champion is None:
            raise ValueError("there is no champion to judge a shadow against: promote instead")
        before = self.shadows.get()
        replaces = before.version if before is not None and before.role == "challenger" else None
        key = self.cache.store(self.name, blob, version)
        set_version_tag(self.client, self.name, version, TAG_VERDICT, "shadow")  # it may come back
        self.shadows.put(ShadowPointer(version, "challenger", champion, time.time()))
        event = ModelShadowed(
            source=self.source,
            model_name=self.name,
            version=version,
            champion_version=champion,
            artifact_key=key,
            artifact_sha256=blob_sha256(blob),
            replaces_version=replaces,
            reason=reason if replaces is None else f"{reason}; replaces undecided version {replaces}",
        )
        self.emit(event, trace_id)
        return event

    def end_shadow(self, pointer: ShadowPointer) -> bool:
        """Empty the shadow slot if it still holds ``pointer``'s judgement; True when it did."""
        current = self.shadows.get()
        if current is None or current.session != pointer.session:
            return False
        self.shadows.clear()
        return True

    def reconcile_shadow(self) -> Reconciled:
        """Settle a shadow slot that a crash between a verdict and the slot's update left behind."""
        pointer = self.shadows.get()
        if pointer is None:
            return reconcile(None, None, rejected=False)
        champion = self.champion()
        tags = version_tags(self.client, self.name, pointer.version)
        settled = reconcile(pointer, champion, rejected=tags.get(TAG_VERDICT) == "rejected")
        if settled.action == "guard" and champion is not None:
            self._guard(pointer.champion, champion)
        elif settled.action == "clear":
            self.end_shadow(pointer)
        if settled.action != "keep":
            log.warning(
                "shadow slot out of step with the registry: %s; slot %s", settled.reason, settled.action
            )
        return settled

    def _guard(self, previous: str | None, version: str) -> None:
        """After a promotion in shadow mode the previous champion scores on, in shadow."""
        settings = self.settings
        if (
            settings.promotion == "shadow"
            and settings.shadow_guardrail_window > 0
            and previous is not None
            and previous != version
        ):
            self.shadows.put(ShadowPointer(previous, "guard", version, time.time()))
        else:
            self.shadows.clear()

    def verified_blob(self, version: str) -> bytes:
        """The blob of ``version`` from MLflow, refused unless it would serve (nothing moved)."""
        try:
            blob = download_blob(self.client, self.name, version)
        except ArtifactSignatureError as exc:  # the bytes differ from the registered digest
            raise PromotionRefusedError(f"{self.name} version {version} refused: {exc}") from exc
        verify_servable(blob, self.signing_key, self.name, version)
        return blob

    def rollback(
        self, to_version: str, reason: str, evidence: ShadowEvidence | None = None
    ) -> ModelRolledBack:
        blob = self.verified_blob(to_version)
        event = self.rollback_of(to_version, blob, reason, evidence)
        self.apply_rollback(event, blob)
        self.emit(event)
        return event

    def rollback_of(
        self, to_version: str, blob: bytes, reason: str, evidence: ShadowEvidence | None = None
    ) -> ModelRolledBack:
        """The ModelRolledBack a rollback from the champion now to ``to_version`` would announce."""
        current = self.champion()
        if current is None:
            raise ValueError("there is no champion to roll back from")
        return ModelRolledBack(
            source=self.source,
            model_name=self.name,
            from_version=current,
            to_version=to_version,
            artifact_key=self.cache.key(self.name, to_version),
            artifact_sha256=blob_sha256(blob),
            reason=reason,
            evidence=evidence,
        )

    def apply_rollback(self, event: ModelRolledBack, blob: bytes) -> None:
        """Everything a rollback moves, without announcing it."""
        self.cache.publish(self.name, blob, event.to_version)
        set_champion(self.client, self.name, event.to_version)
        self.shadows.clear()  # a rollback ends any judgement: the one that serves was judged before

    def reject(
        self,
        version: str,
        reason: str,
        challenger: dict[str, float] | None = None,
        champion: dict[str, float] | None = None,
        trace_id: str | None = None,
        evidence: DecisionEvidence | None = None,
    ) -> ModelRejected:
        """Announce that ``version`` stays registered but will not serve, and why."""
        event = self.rejection_of(version, reason, challenger, champion, evidence)
        self.apply_rejection(event)
        self.emit(event, trace_id)
        return event

    def rejection_of(
        self,
        version: str,
        reason: str,
        challenger: dict[str, float] | None = None,
        champion: dict[str, float] | None = None,
        evidence: DecisionEvidence | None = None,
    ) -> ModelRejected:
        """The ModelRejected a rejection of ``version`` would announce."""
        return ModelRejected(
            source=self.source,
            model_name=self.name,
            version=version,
            reason=reason,
            challenger_metrics=challenger or {},
            champion_metrics=champion or {},
            evidence=evidence,
        )

    def apply_rejection(self, event: ModelRejected) -> None:
        """Mark the version rejected in the registry (the shadow slot reads it after a crash)."""
        set_version_tag(self.client, self.name, event.version, TAG_VERDICT, "rejected")

    def emit(self, event: Event, trace_id: str | None = None) -> None:
        if trace_id:
            event = event.model_copy(update={"trace_id": trace_id})
        key, value, headers = encode(event, key=self.name)
        errors: list[str] = []
        self.producer.produce(
            self.settings.topic(MODELS_LIFECYCLE.name),
            key=key,
            value=value,
            headers=headers,
            on_delivery=lambda err, _msg: errors.append(str(err)) if err else None,
        )
        if self.producer.flush(30) != 0 or errors:
            raise RuntimeError(f"lifecycle event not delivered: {errors or 'flush timed out'}")
