"""A model artifact: the fitted estimator, what it was trained on, and how good it was."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelstore.compiled_trees import CompiledTrees, compile_trees
from modelstore.reference import MAX_REFERENCE_ROWS
from schemas.fields import Metrics, NonEmptyStr, UtcDatetime


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IntervalInfo(BaseModel):
    """Residual quantiles on the validation set: point prediction + quantile = bound."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    residual_quantiles: dict[float, float] = Field(
        description="Quantile level in (0, 1) -> residual (target - prediction) at that level."
    )
    space: str = Field(default="log_fee", description="The space the residuals live in.")

    @model_validator(mode="after")
    def _levels(self) -> IntervalInfo:
        if not self.residual_quantiles:
            raise ValueError("residual_quantiles is empty")
        if any(not 0.0 < level < 1.0 for level in self.residual_quantiles):
            raise ValueError("quantile levels must lie strictly between 0 and 1")
        return self


class ArtifactMetadata(BaseModel):
    """Everything about the model except its weights; stored as JSON inside the blob."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_name: NonEmptyStr
    version: NonEmptyStr | None = Field(
        default=None, description="Registry version; None until the model is registered."
    )
    feature_names: tuple[NonEmptyStr, ...] = Field(min_length=1)
    train_from: UtcDatetime | None = None
    train_to: UtcDatetime
    train_rows: int = Field(default=0, ge=0)
    metrics: Metrics = Field(default_factory=dict)
    validation_error: float = Field(
        ge=0, description="Validation MAE on log fee: the baseline for performance drift."
    )
    created_at: UtcDatetime = Field(default_factory=_utc_now)
    interval: IntervalInfo | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _window(self) -> ArtifactMetadata:
        if self.train_from is not None and self.train_to < self.train_from:
            raise ValueError("train_to is before train_from")
        if len(set(self.feature_names)) != len(self.feature_names):
            raise ValueError("feature_names has duplicates")
        return self


@dataclass(frozen=True)
class ModelArtifact:
    """A fitted estimator with its metadata and drift reference sample."""

    model: Any
    metadata: ArtifactMetadata
    reference: pd.DataFrame = field(default_factory=pd.DataFrame)
    _compiled: CompiledTrees | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not hasattr(self.model, "predict"):
            raise TypeError(f"{type(self.model).__name__} has no predict()")
        if len(self.reference) > MAX_REFERENCE_ROWS:
            raise ValueError(f"reference sample has more than {MAX_REFERENCE_ROWS} rows")

    @property
    def name(self) -> str:
        return self.metadata.model_name

    @property
    def version(self) -> str | None:
        return self.metadata.version

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.metadata.feature_names

    def with_version(self, version: str) -> ModelArtifact:
        """A copy stamped with its registry version (known only after registering)."""
        stamped = ArtifactMetadata.model_validate({**self.metadata.model_dump(), "version": version})
        return dataclasses.replace(self, metadata=stamped)

    def _frame(self, rows: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        names = list(self.feature_names)
        if isinstance(rows, pd.DataFrame):
            missing = [name for name in names if name not in rows.columns]
            if missing:
                raise ValueError(f"rows lack features {missing}")
            return rows[names]
        array = np.asarray(rows)
        if array.ndim != 2 or array.shape[1] != len(names):
            raise ValueError(f"rows must have shape (n, {len(names)}), got {array.shape}")
        # A mixed array arrives as objects; let numeric columns become numeric again.
        return pd.DataFrame(array, columns=names).infer_objects()

    def prepare_for_serving(self) -> None:
        """Compile the trees for serving (see modelstore.compiled_trees); checked first."""
        sample = self._frame(self.reference).to_numpy(dtype=float) if len(self.reference) else None
        if sample is None:
            sample = np.zeros((2, len(self.feature_names)))
        object.__setattr__(self, "_compiled", compile_trees(self.model, sample[:256]))

    def predict(self, rows: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Point predictions, with columns put in training order first.

        A float array is taken as already in training order (as the worker builds it) and goes
        straight to the estimator, or to the compiled trees once prepared for serving.
        """
        if isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.shape[1] == len(self.feature_names):
            if rows.dtype.kind == "f" and not hasattr(self.model, "feature_names_in_"):
                if self._compiled is not None:
                    return self._compiled.predict(rows)
                return np.asarray(self.model.predict(rows), dtype=float)
        frame = self._frame(rows)
        # Estimators fitted on arrays warn when handed a frame; give them what they saw.
        features = frame if hasattr(self.model, "feature_names_in_") else frame.to_numpy()
        return np.asarray(self.model.predict(features), dtype=float)

    def predict_interval(
        self, rows: pd.DataFrame | np.ndarray, lower: float, upper: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bounds from the stored residual quantiles at levels ``lower`` and ``upper``."""
        if self.metadata.interval is None:
            raise ValueError("this artifact carries no interval info")
        quantiles = self.metadata.interval.residual_quantiles
        if lower not in quantiles or upper not in quantiles:
            raise ValueError(f"levels available: {sorted(quantiles)}")
        point = self.predict(rows)
        return point + quantiles[lower], point + quantiles[upper]
