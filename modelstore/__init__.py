"""Model artifacts: signed skops blobs, the Redis cache that serves them, the MLflow bridge.

The MLflow bridge is heavy to import, so it lives in ``modelstore.mlflow_registry`` and is
not re-exported here.
"""

from modelstore.artifact import ArtifactMetadata, IntervalInfo, ModelArtifact
from modelstore.exceptions import (
    ArtifactFormatError,
    ArtifactMismatchError,
    ArtifactNotFoundError,
    ArtifactSignatureError,
    ModelStoreError,
    PromotionRefusedError,
    UntrustedTypeError,
)
from modelstore.loading import load_current, load_version
from modelstore.memory import InMemoryModelStore
from modelstore.ports import ModelStore, artifact_key, current_key
from modelstore.redis_cache import ModelCache
from modelstore.reference import MAX_REFERENCE_ROWS
from modelstore.signing import blob_sha256, load_artifact, sign_artifact, verify_blob
from modelstore.trust import TRUSTED_TYPES

__all__ = [
    "MAX_REFERENCE_ROWS",
    "TRUSTED_TYPES",
    "ArtifactFormatError",
    "ArtifactMetadata",
    "ArtifactMismatchError",
    "ArtifactNotFoundError",
    "ArtifactSignatureError",
    "InMemoryModelStore",
    "IntervalInfo",
    "ModelArtifact",
    "ModelCache",
    "ModelStore",
    "ModelStoreError",
    "PromotionRefusedError",
    "UntrustedTypeError",
    "artifact_key",
    "blob_sha256",
    "current_key",
    "load_artifact",
    "load_current",
    "load_version",
    "sign_artifact",
    "verify_blob",
]
