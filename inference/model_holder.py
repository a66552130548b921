"""The worker's current model, and the hot swap to a newer one.

A swap fetches and verifies the new artifact off the event loop, smoke-tests it, then
replaces one reference. Scoring reads that reference once per batch, so a batch in flight
finishes on the model it started with and every result names the version that produced it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import redis

from inference.exceptions import PointerMismatch, SmokeTestFailed
from modelstore.artifact import ModelArtifact
from modelstore.exceptions import ModelStoreError
from modelstore.ports import ModelStore
from modelstore.signing import blob_sha256, load_artifact

log = logging.getLogger(__name__)
__all__ = ["ModelHolder", "SmokeTestFailed", "SwapRecord", "smoke_test"]


@dataclass
class SwapRecord:
    version: str
    at: float  # time.time() when the new model started serving


@dataclass
class ModelHolder:
    store: ModelStore
    model_name: str
    signing_key: bytes
    current: ModelArtifact | None = None
    swaps: list[SwapRecord] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (version, reason)
    # (version, blob digest) refused: not fetched and verified again on every poll, until a
    # lifecycle event promotes or rolls back a model (reconsider)
    _refused_blobs: set[tuple[str, str]] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def version(self) -> str | None:
        return self.current.version if self.current else None

    async def wait_ready(self, limit_s: float) -> bool:
        """Wait (bounded) until a first model serves."""
        if self.current is not None:
            return True
        try:
            await asyncio.wait_for(self._ready.wait(), limit_s)
        except TimeoutError:
            return False
        return True

    async def refresh(self) -> bool:
        """Swap to the store's current version if it differs. True when a swap happened."""
        async with self._lock:
            try:
                found = await asyncio.to_thread(self.store.fetch_current, self.model_name)
            except redis.RedisError as exc:
                # Keep serving what we have; the periodic check retries.
                log.warning("model store unreachable, keeping version %s: %s", self.version, exc)
                return False
            if found is None:
                return False
            version, blob = found
            if version == self.version:
                return False
            refusal = (version, blob_sha256(blob))
            if refusal in self._refused_blobs:
                return False
            try:
                artifact = await asyncio.to_thread(self._verify_and_load, blob, version)
            except ModelStoreError as exc:
                self._refused_blobs.add(refusal)
                self.refused.append((version, str(exc)))
                log.error(
                    "refused model %s version %s: %s; still serving %s",
                    self.model_name,
                    version,
                    exc,
                    self.version,
                )
                return False
            self.current = artifact
            self.swaps.append(SwapRecord(version, time.time()))
            self._ready.set()
            log.warning("now serving %s version %s", self.model_name, version)
            return True

    def reconsider(self, why: str) -> None:
        """Forget past refusals: a new promotion or rollback may legitimately point at such a blob."""
        if self._refused_blobs:
            log.warning("%s: reconsidering %d refused model blob(s)", why, len(self._refused_blobs))
            self._refused_blobs.clear()

    def _verify_and_load(self, blob: bytes, version: str) -> ModelArtifact:
        return load_servable(blob, version, self.signing_key, "pointer")


def load_servable(blob: bytes, version: str, signing_key: bytes, named_by: str) -> ModelArtifact:
    """The blob as a model ready to serve: signature, version (as ``named_by`` names it), smoke test."""
    artifact = load_artifact(blob, signing_key)  # verifies the HMAC before loading
    if artifact.version is None:
        artifact = artifact.with_version(version)
    elif artifact.version != version:
        raise PointerMismatch(f"blob says version {artifact.version}, {named_by} says {version}")
    artifact.prepare_for_serving()
    smoke_test(artifact)
    return artifact


def smoke_test(artifact: ModelArtifact) -> None:
    """Predict on a few reference rows (or zeros): the output must be finite."""
    if len(artifact.reference) and set(artifact.feature_names) <= set(artifact.reference.columns):
        rows = artifact.reference[list(artifact.feature_names)].head(16).to_numpy(dtype=float)
    else:
        rows = np.zeros((2, len(artifact.feature_names)))
    try:
        predictions = artifact.predict(rows)
    except Exception as exc:  # noqa: BLE001 - any failure means the model can't serve
        raise SmokeTestFailed(f"prediction failed: {exc!r}") from exc
    if predictions.shape != (len(rows),) or not np.isfinite(predictions).all():
        raise SmokeTestFailed("predictions are not one finite number per row")
