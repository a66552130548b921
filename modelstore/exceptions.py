"""Errors of the model store: one root, one class per way an artifact can be refused."""

from __future__ import annotations

from stack.exceptions import TransientError


class ModelStoreError(Exception):
    """Root of every error raised by the model store."""


class ArtifactFormatError(ModelStoreError):
    """The bytes are not a well-formed artifact blob (garbage, truncated, unknown version)."""


class ArtifactSignatureError(ModelStoreError):
    """The blob's HMAC or digest does not match: it was tampered with or signed by another key."""


class UntrustedTypeError(ModelStoreError):
    """The serialized model names a type outside the allow-list, so it is never loaded."""


class ArtifactNotFoundError(ModelStoreError):
    """No artifact is stored under the requested model name and version."""


class ArtifactMismatchError(ModelStoreError):
    """A verified artifact does not describe the model or version it was fetched as."""


class PromotionRefusedError(ModelStoreError):
    """A registered version failed verification, so it was not promoted: nothing was moved."""


class EvidenceStoreUnavailable(ModelStoreError):
    """Redis did not answer while reading or writing calibrated bounds or label health."""


class RegistryUnavailable(ModelStoreError, TransientError):
    """The MLflow registry did not answer (a locked store, a server away): retried, not the event's fault."""


class RegistryRefused(ModelStoreError):
    """The MLflow registry answered with a refusal: retrying the same request will not help."""
