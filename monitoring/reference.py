"""What the current model is compared with: its reference sample and validation error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from modelstore.artifact import ModelArtifact
from modelstore.loading import load_current
from modelstore.ports import ModelStore
from modelstore.signing import SigningKey


@dataclass(frozen=True)
class Reference:
    """The champion's drift baseline: training feature rows and validation MAE on log fee."""

    model_name: str
    version: str
    feature_names: tuple[str, ...]
    frame: pd.DataFrame
    validation_error: float

    @classmethod
    def of(cls, artifact: ModelArtifact) -> Reference:
        if artifact.version is None:
            raise ValueError("an unregistered artifact has no version to monitor")
        return cls(
            model_name=artifact.name,
            version=artifact.version,
            feature_names=tuple(artifact.feature_names),
            frame=artifact.reference,
            validation_error=float(artifact.metadata.validation_error),
        )


class ReferenceSource(Protocol):
    """Where the current model's reference comes from (Redis in production)."""

    def current_version(self) -> str | None:
        """The version that serves now: a cheap read, asked often."""
        ...

    def load_current(self) -> Reference | None:
        """The verified current artifact's reference, or None if no model was published."""
        ...


@dataclass(frozen=True)
class StoreReferences:
    """A ReferenceSource over a ModelStore: the same signed artifact the workers serve."""

    store: ModelStore
    model_name: str
    signing_key: SigningKey

    def current_version(self) -> str | None:
        return self.store.current_version(self.model_name)

    def load_current(self) -> Reference | None:
        artifact = load_current(self.store, self.model_name, self.signing_key)  # verifies the HMAC
        return None if artifact is None else Reference.of(artifact)
