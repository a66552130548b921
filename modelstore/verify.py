"""Check that a blob would serve before anything points at it: what workers check, done first.

A promotion that moved the alias and the Redis pointer to a blob the workers then refuse
leaves the registry and the workers disagreeing; verifying here keeps them in step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelstore.artifact import ModelArtifact
from modelstore.exceptions import ArtifactMismatchError, ModelStoreError, PromotionRefusedError
from modelstore.signing import SigningKey, load_artifact

SMOKE_ROWS = 16


def smoke_predict(artifact: ModelArtifact) -> None:
    """A few reference rows (zeros without any) must give one finite prediction each."""
    names = list(artifact.feature_names)
    rows: pd.DataFrame | np.ndarray = np.zeros((2, len(names)))
    if len(artifact.reference) and set(names) <= set(artifact.reference.columns):
        rows = artifact.reference[names].head(SMOKE_ROWS)  # a frame: columns keep their dtypes
    try:
        predictions = np.asarray(artifact.predict(rows), dtype=float)
    except Exception as exc:  # noqa: BLE001 - whatever breaks, the model cannot serve
        raise ArtifactMismatchError(f"the model fails to predict: {exc!r}") from exc
    if predictions.shape != (len(rows),) or not np.isfinite(predictions).all():
        raise ArtifactMismatchError("the model does not give one finite prediction per row")


def verify_servable(blob: bytes, key: SigningKey, name: str, version: str) -> ModelArtifact:
    """The artifact of ``blob`` if it is signed by ``key``, is ``name``:``version`` and predicts.

    Raises PromotionRefusedError (naming the cause) otherwise; the caller has moved nothing yet.
    """
    try:
        artifact = load_artifact(blob, key)  # HMAC first: a forged blob is never deserialized
        if artifact.name != name or artifact.version != version:
            raise ArtifactMismatchError(f"the blob is signed as {artifact.name}:{artifact.version}")
        smoke_predict(artifact)
    except ModelStoreError as exc:
        raise PromotionRefusedError(
            f"{name} version {version} refused ({type(exc).__name__}: {exc}); nothing was moved"
        ) from exc
    return artifact
