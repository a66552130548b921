"""The model scoring in shadow beside the champion, and the shadow step of a batch.

The shadow slot (modelstore/shadow.py) names it: a challenger waiting for its live verdict,
or the previous champion during the guardrail after a promotion. The worker loads it as it
loads the champion (signature checked, smoke-tested, off the event loop) and scores every
batch with it on the same feature matrix. Its results go to predictions.shadow only, keyed
by request id; a shadow that fails to load or to score never touches the champion's results.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import redis

from inference.model_holder import load_servable
from inference.result_codec import encode_results
from inference.scoring import Pending, score_batch
from modelstore.artifact import ModelArtifact
from modelstore.exceptions import ModelStoreError
from modelstore.shadow import ShadowPointer
from modelstore.signing import blob_sha256
from stack.async_producer import OutgoingMessage

log = logging.getLogger(__name__)


class Blobs(Protocol):
    def fetch(self, name: str, version: str) -> bytes | None: ...


class Slot(Protocol):
    def get(self) -> ShadowPointer | None: ...


@dataclass
class ShadowHolder:
    store: Blobs
    slot: Slot
    model_name: str
    signing_key: bytes
    current: ModelArtifact | None = None
    pointer: ShadowPointer | None = None
    scored: int = 0  # requests scored in shadow
    failures: int = 0  # batches the shadow failed to score
    _refused: set[tuple[str, str]] = field(default_factory=set)  # (version, blob digest)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def version(self) -> str | None:
        return self.current.version if self.current else None

    async def refresh(self) -> bool:
        """Follow the shadow slot: load, swap or drop the shadow. True when it changed."""
        async with self._lock:
            try:
                pointer = await asyncio.to_thread(self.slot.get)
                wanted = None if pointer is None else pointer.version
                if wanted == self.version:
                    self.pointer = pointer
                    return False
                if wanted is None:
                    log.warning("no model in shadow any more (was version %s)", self.version)
                    self.current, self.pointer = None, None
                    return True
                blob = await asyncio.to_thread(self.store.fetch, self.model_name, wanted)
            except redis.RedisError as exc:
                log.warning("model store unreachable, shadow stays %s: %s", self.version, exc)
                return False
            if blob is None or (wanted, blob_sha256(blob)) in self._refused:
                return False
            try:
                artifact = await asyncio.to_thread(self._load, blob, wanted)
            except ModelStoreError as exc:
                self._refused.add((wanted, blob_sha256(blob)))
                log.error("refused shadow model %s version %s: %s", self.model_name, wanted, exc)
                return False
            self.current, self.pointer = artifact, pointer
            log.warning(
                "scoring %s version %s in shadow (%s)", self.model_name, wanted, pointer and pointer.role
            )
            return True

    def _load(self, blob: bytes, version: str) -> ModelArtifact:
        return load_servable(blob, version, self.signing_key, "shadow slot")

    def step(
        self,
        champion: ModelArtifact | None,
        batch: list[Pending],
        matrix: np.ndarray,
        started: float,
        topic: str,
        source: str,
    ) -> list[OutgoingMessage]:
        """The shadow's results for the batch the champion just scored, ready to produce.

        Nothing when there is no shadow, when it is the champion itself (a swap in progress),
        or when it fails (logged and counted: the champion's results go out regardless).
        """
        model = self.current  # read once, like the champion
        if model is None or not batch or champion is None or model.version == champion.version:
            return []
        try:
            results = score_batch(model, self.model_name, batch, started, time.time(), source, matrix=matrix)
        except Exception:  # noqa: BLE001 - the shadow must never cost the user a result
            self.failures += 1
            log.exception("shadow version %s failed on a batch of %d", model.version, len(batch))
            return []
        self.scored += len(results)
        return encode_results(topic, results)  # the champion's one-pass encoder: same bytes
