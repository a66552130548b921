"""The drift decision, pure: fed results and labels, it returns the DriftDetected to emit.

Two windows per model version, each emitting at most one event before it starts afresh:

- feature window: the latest ``feature_window`` scored vectors (PredictionResult.features).
  Every ``check_every`` new vectors, once it holds ``feature_min_rows``, Evidently compares
  it with the model's reference sample; a share of drifted features at or above
  ``share_threshold`` emits a ``kind="feature"`` event, its HTML report saved first. Bounds:
  when the first and last result of the window were scored (their ``occurred_at``).
- error window: the absolute error on log1p(fee) of the latest ``error_window`` predictions
  of the current version that met their real fee (TransferCompleted, same transfer_id,
  either order). Once it holds ``error_min_rows``, a mean over the model's validation MAE
  above ``error_ratio`` emits a ``kind="performance"`` event. Bounds: the event times
  (``transferred_at``) of the first and last outcome in the window.

Only results of the version that serves now count: when a result names another version, the
monitor asks the reference source which version is current and, if it is the new one, loads
its reference and empties both windows (a new model, a new baseline). Results of older
versions (in flight during a swap, or history read on a first start) are skipped. Results
without a fee (status no_model or error) and free transfers (fee 0: the model is trained on
paid transfers only) are ignored.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import uuid4

import pandas as pd

from modelstore.exceptions import ModelStoreError
from monitoring.config import DriftConfig
from monitoring.feature_check import FeatureDriftResult, feature_drift
from monitoring.feature_kinds import choose_features
from monitoring.reference import Reference, ReferenceSource
from monitoring.reports import ReportSink
from monitoring.windows import ErrorWindow, FeatureWindow, Label, Outcome, OutcomeJoin, Prediction
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted

log = logging.getLogger(__name__)

FeatureCheck = Callable[[pd.DataFrame, pd.DataFrame, Sequence[str], float], FeatureDriftResult]
# A reference smaller than this says too little about a distribution to test against.
MIN_REFERENCE_ROWS = 50
# A perfect validation score would make any error infinite drift.
MIN_REFERENCE_ERROR = 1e-6
PERFORMANCE_METHOD = "mae_ratio"


class OutcomeObserver(Protocol):
    """Fed every scored result and every labelled outcome of the serving version."""

    def on_result(self, result: PredictionResult) -> None: ...

    def on_outcome(self, outcome: Outcome) -> None: ...


@dataclass
class MonitorStats:
    """Counters for logs and tests."""

    results: int = 0
    transfers: int = 0
    ignored: int = 0  # no prediction, free transfer, or a vector without the model's features
    stale: int = 0  # results or outcomes of a version that no longer (or not yet) serves
    outcomes: int = 0
    checks: int = 0
    check_seconds: float = 0.0
    last_check_seconds: float = 0.0
    events: int = 0


class DriftMonitor:
    """Feature and performance drift of the serving model; see the module docstring."""

    def __init__(
        self,
        config: DriftConfig,
        references: ReferenceSource,
        reports: ReportSink,
        check: FeatureCheck = feature_drift,
        observers: Sequence[OutcomeObserver] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._references = references
        self._reports = reports
        self._check = check
        self._observers = tuple(observers)
        self._clock = clock
        self.reference: Reference | None = None
        self.stats = MonitorStats()
        self._columns: tuple[str, ...] = ()
        self._reference_frame: pd.DataFrame | None = None
        self._features = FeatureWindow((), config.feature_window)
        self._errors = ErrorWindow(config.error_window)
        self._join = OutcomeJoin(config.pending_limit)
        self._not_current: set[str] = set()

    @property
    def version(self) -> str | None:
        return self.reference.version if self.reference else None

    @property
    def feature_columns(self) -> tuple[str, ...]:
        """The features compared: the model's, minus the excluded ones."""
        return self._columns

    def window_sizes(self) -> tuple[int, int]:
        """(vectors in the feature window, outcomes in the error window)."""
        return len(self._features), len(self._errors)

    def windows(self) -> tuple[FeatureWindow, ErrorWindow, OutcomeJoin]:
        """The state a restart would lose unless saved (monitoring/state.py saves it)."""
        return self._features, self._errors, self._join

    def held(self) -> dict[str, int]:
        """What lives only in memory now (lost by a restart), by kind."""
        return {
            "window vectors": len(self._features),
            "window outcomes": len(self._errors),
            "pending predictions": len(self._join.predictions),
            "early labels": len(self._join.labels),
        }

    # Reference -------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Load the current model's reference if it changed; True when it did."""
        version = self._references.current_version()
        if version is None or version == self.version:
            return False
        try:
            reference = self._references.load_current()
        except ModelStoreError as exc:
            # The workers refuse such an artifact too; keep comparing with the one that serves.
            log.error("cannot load the reference of %s version %s: %s", self.config.model_name, version, exc)
            return False
        if reference is None or reference.version == self.version:
            return False
        self._use(reference)
        return True

    def on_model_change(self) -> None:
        """A promotion or rollback was announced: versions seen as stale may serve again."""
        self._not_current.clear()
        self.refresh()

    def _use(self, reference: Reference) -> None:
        frame = reference.frame
        # The rule of monitoring/feature_kinds.py: features that trend with time are left out.
        choice = choose_features(
            frame, reference.feature_names, self.config.trend_p, self.config.exclude_features
        )
        columns = choice.compared
        if choice.trending:
            log.info(
                "feature drift leaves out %d features that trend with time in the reference: %s",
                len(choice.trending),
                ", ".join(f"{name} (rho {rho:+.2f})" for name, rho in sorted(choice.trending.items())),
            )
        self.reference = reference
        self._columns = columns
        if columns and len(reference.frame) >= MIN_REFERENCE_ROWS:
            self._reference_frame = reference.frame[list(columns)].astype("float64").reset_index(drop=True)
        else:
            self._reference_frame = None
            log.warning(
                "%s version %s has no usable reference sample (%d rows, %d features): feature drift is off",
                reference.model_name,
                reference.version,
                len(reference.frame),
                len(columns),
            )
        self._features = FeatureWindow(columns, self.config.feature_window)
        self._errors.clear()
        self._not_current.clear()
        log.info(
            "drift reference: %s version %s (%d rows)",
            reference.model_name,
            reference.version,
            len(reference.frame),
        )

    def _is_current(self, version: str) -> bool:
        if version == self.version:
            return True
        if version in self._not_current:
            return False
        self.refresh()
        if version == self.version:
            return True
        self._not_current.add(version)
        return False

    # Observations ----------------------------------------------------------------------

    def observe(self, event: PredictionResult | TransferCompleted) -> list[DriftDetected]:
        if isinstance(event, PredictionResult):
            return self.observe_result(event)
        return self.observe_transfer(event)

    def observe_result(self, result: PredictionResult) -> list[DriftDetected]:
        """A scored request: its vector joins the feature window, its fee waits for the label."""
        self.stats.results += 1
        if result.status != "ok" or result.model_version is None or result.predicted_fee_eur_m is None:
            self.stats.ignored += 1
            return []
        for observer in self._observers:
            observer.on_result(result)
        if not self._is_current(result.model_version):
            self.stats.stale += 1
            return []
        events: list[DriftDetected] = []
        if result.transfer_id:
            low, high = result.interval_low, result.interval_high
            prediction = Prediction(
                math.log1p(result.predicted_fee_eur_m),
                result.model_version,
                None if low is None else math.log1p(low),
                None if high is None else math.log1p(high),
                result.occurred_at.timestamp(),
            )
            outcome = self._join.add_prediction(result.transfer_id, prediction)
            if outcome is not None:
                events += self._on_outcome(outcome)
        if self._features.add(result.features, result.occurred_at):
            events += self._check_features()
        else:
            self.stats.ignored += 1
        return events

    def observe_transfer(self, transfer: TransferCompleted) -> list[DriftDetected]:
        """A real fee: the label of the prediction made earlier for the same transfer."""
        self.stats.transfers += 1
        if transfer.fee_eur_m <= 0:
            self.stats.ignored += 1
            return []
        outcome = self._join.add_label(
            transfer.transfer_id,
            Label(math.log1p(transfer.fee_eur_m), transfer.transferred_at, self._clock()),
        )
        return [] if outcome is None else self._on_outcome(outcome)

    # Decisions -------------------------------------------------------------------------

    def _on_outcome(self, outcome: Outcome) -> list[DriftDetected]:
        reference = self.reference
        if reference is None or outcome.model_version != reference.version:
            self.stats.stale += 1
            return []
        self.stats.outcomes += 1
        for observer in self._observers:
            observer.on_outcome(outcome)
        self._errors.add(outcome.abs_error, outcome.at)
        if len(self._errors) < self.config.error_min_rows:
            return []
        online = self._errors.mean()
        baseline = max(reference.validation_error, MIN_REFERENCE_ERROR)
        ratio = online / baseline
        if ratio <= self.config.error_ratio:
            return []
        start, end = self._errors.bounds()
        event = DriftDetected(
            source=self.config.source,
            model_name=reference.model_name,
            model_version=reference.version,
            kind="performance",
            method=PERFORMANCE_METHOD,
            window_start=start,
            window_end=end,
            window_size=len(self._errors),
            scores={"mae_ratio": ratio},
            threshold=float(self.config.error_ratio),
            online_error=online,
            reference_error=float(reference.validation_error),
        )
        self._errors.clear()
        return self._emitted(event)

    def _check_features(self) -> list[DriftDetected]:
        window, reference = self._features, self.reference
        if (
            reference is None
            or self._reference_frame is None
            or len(window) < self.config.feature_min_rows
            or window.added_since_check < self.config.check_every
        ):
            return []
        window.added_since_check = 0
        result = self._check(
            self._reference_frame, window.frame(), self._columns, self.config.column_threshold
        )
        self.stats.checks += 1
        self.stats.check_seconds += result.elapsed_s
        self.stats.last_check_seconds = result.elapsed_s
        top = sorted(result.scores.items(), key=lambda item: item[1], reverse=True)[:3]
        log.info(
            "feature check on %d rows: %d/%d drifted (share %.2f, threshold %.2f) in %.2f s; top %s",
            result.rows,
            len(result.drifted),
            len(result.scores),
            result.share,
            self.config.share_threshold,
            result.elapsed_s,
            ", ".join(f"{name}={score:.3f}" for name, score in top),
        )
        if result.share < self.config.share_threshold:
            return []
        event_id = uuid4()
        uri = self._reports.save(event_id, result)
        start, end = window.bounds()
        event = DriftDetected(
            event_id=event_id,
            source=self.config.source,
            model_name=reference.model_name,
            model_version=reference.version,
            kind="feature",
            method=result.method,
            window_start=start,
            window_end=end,
            window_size=len(window),
            scores=result.scores,
            threshold=float(self.config.share_threshold),
            share_drifted=result.share,
            report_uri=uri,
        )
        window.clear()
        return self._emitted(event)

    def _emitted(self, event: DriftDetected) -> list[DriftDetected]:
        self.stats.events += 1
        return [event]
