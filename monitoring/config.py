"""The monitor's knobs, taken from Settings once at start-up (plain values for unit tests)."""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.feature_kinds import DEFAULT_TREND_P
from stack.settings import Settings

SOURCE = "drift-monitor"


@dataclass(frozen=True)
class DriftConfig:
    """Window sizes and thresholds; see the ``drift_*`` settings for what each one means."""

    model_name: str
    exclude_features: frozenset[str] = frozenset()  # by hand, beside the trend rule
    trend_p: float = DEFAULT_TREND_P
    feature_window: int = 1000
    feature_min_rows: int = 500
    check_every: int = 250
    column_threshold: float = 0.2
    share_threshold: float = 0.3
    error_window: int = 300
    error_min_rows: int = 150
    error_ratio: float = 1.3
    pending_limit: int = 100_000
    source: str = SOURCE

    def __post_init__(self) -> None:
        if not 0 < self.feature_min_rows <= self.feature_window:
            raise ValueError("feature_min_rows must lie in 1..feature_window")
        if not 0 < self.error_min_rows <= self.error_window:
            raise ValueError("error_min_rows must lie in 1..error_window")
        if not 0 < self.trend_p < 1:
            raise ValueError("trend_p must lie strictly between 0 and 1")
        if self.check_every < 1 or self.pending_limit < 1:
            raise ValueError("check_every and pending_limit must be positive")
        if not 0 < self.share_threshold <= 1 or self.column_threshold <= 0 or self.error_ratio <= 0:
            raise ValueError("thresholds must be positive (share_threshold at most 1)")

    @classmethod
    def from_settings(cls, settings: Settings) -> DriftConfig:
        return cls(
            model_name=settings.model_name,
            exclude_features=frozenset(settings.drift_exclude_features),
            trend_p=settings.drift_trend_p,
            feature_window=settings.drift_feature_window,
            feature_min_rows=settings.drift_feature_min_rows,
            check_every=settings.drift_check_every,
            column_threshold=settings.drift_column_threshold,
            share_threshold=settings.drift_share_threshold,
            error_window=settings.drift_error_window,
            error_min_rows=settings.drift_error_min_rows,
            error_ratio=settings.drift_error_ratio,
            pending_limit=settings.drift_pending_limit,
        )
