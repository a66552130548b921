"""DriftMonitor, pure: synthetic streams in, DriftDetected out, no Kafka.

The helpers at the top build a model artifact whose reference sample and validation error
describe a known stream, so that a stream drawn from the same law must raise nothing, and
a stream with a known shift must raise exactly the event that names it. The integration
test reuses them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from modelstore import ArtifactMetadata, InMemoryModelStore, ModelArtifact, sign_artifact
from monitoring import (
    BackgroundReports,
    DriftConfig,
    DriftMonitor,
    FileReports,
    StoreReferences,
    resolve_report,
)
from monitoring.feature_check import FeatureDriftResult, feature_drift
from monitoring.monitor import FeatureCheck
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted

KEY = "drift-unit-key"
MODEL = "transfer-fee"
FEATURES = (
    "age", "age_missing", "pos_forward", "season_index", "player_moves", "player_last_log_fee",
    "player_days_since_move", "to_club_bought_mean_log_fee", "market_league_log_fee", "cross_league",
)  # fmt: skip
# Shifting 4 of the 9 checked features (season_index trends with time: left out) passes a 0.3 share.
SHIFTS = {
    "age": 4.0,
    "player_last_log_fee": 1.0,
    "market_league_log_fee": 0.5,
    "to_club_bought_mean_log_fee": 0.6,
}
NOISE = 0.4  # sd of the log-fee noise around the true law
START = datetime(2024, 1, 1, tzinfo=UTC)


def feature_rows(n: int, seed: int, shift: dict[str, float] | None = None, season: int = 12) -> pd.DataFrame:
    """Vectors shaped like the worker's: continuous, counts, flags and a season index."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(25.0, 3.5, n).round(),
            "age_missing": (rng.random(n) < 0.08).astype(float),
            "pos_forward": (rng.random(n) < 0.3).astype(float),
            "season_index": np.full(n, float(season)),
            "player_moves": rng.poisson(2.0, n).astype(float),
            "player_last_log_fee": rng.gamma(2.0, 0.6, n),
            "player_days_since_move": np.minimum(rng.exponential(500.0, n), 3650.0),
            "to_club_bought_mean_log_fee": rng.normal(1.6, 0.5, n),
            "market_league_log_fee": rng.normal(1.3, 0.25, n),
            "cross_league": (rng.random(n) < 0.4).astype(float),
        }
    )
    for name, delta in (shift or {}).items():
        frame[name] = frame[name] + delta
    return frame


def true_log_fee(rows: pd.DataFrame) -> np.ndarray:
    return np.asarray(
        0.4
        + 0.35 * rows["player_last_log_fee"]
        + 0.5 * rows["market_league_log_fee"]
        + 0.25 * rows["to_club_bought_mean_log_fee"]
        - 0.03 * (rows["age"] - 25.0)
        + 0.2 * rows["pos_forward"],
        dtype=float,
    )


def _clip(log_fee: np.ndarray) -> np.ndarray:
    return np.clip(log_fee, 0.05, 6.0)  # FeeEurM holds 0..1000 EUR m


def drift_artifact(version: str = "1", seed: int = 0, name: str = MODEL) -> ModelArtifact:
    """A linear model on the synthetic law; validation MAE measured on held-out rows."""
    rows = feature_rows(3000, seed)
    # Training rows come in time order over three seasons, as the trainer stores them: the
    # season index trends with the row order, so the trend rule leaves it out.
    rows["season_index"] = np.floor(np.linspace(10.0, 12.999, len(rows)))
    target = _clip(true_log_fee(rows) + np.random.default_rng(seed + 1).normal(0, NOISE, len(rows)))
    columns = list(FEATURES)
    held_out = LinearRegression().fit(rows[columns].iloc[:2400], target[:2400])
    validation_error = float(
        np.mean(np.abs(target[2400:] - _clip(held_out.predict(rows[columns].iloc[2400:]))))
    )
    metadata = ArtifactMetadata(
        model_name=name,
        version=version,
        feature_names=FEATURES,
        train_to=START,
        train_rows=len(rows),
        metrics={"val_mae_log": validation_error},
        validation_error=validation_error,
    )
    model = LinearRegression().fit(rows[columns], target)
    return ModelArtifact(
        model=model, metadata=metadata, reference=rows[columns].tail(2000).reset_index(drop=True)
    )


@dataclass(frozen=True)
class Observation:
    result: PredictionResult
    transfer: TransferCompleted


def stream(
    artifact: ModelArtifact,
    n: int,
    seed: int,
    shift: dict[str, float] | None = None,
    noise: float = NOISE,
    version: str | None = None,
    season: int = 14,
    start: datetime = START,
    tag: str = "",
) -> list[Observation]:
    """Results scored by ``artifact`` and the real fees of the same transfers."""
    rows = feature_rows(n, seed, shift, season=season)
    predicted = _clip(artifact.predict(rows[list(artifact.feature_names)]))
    truth = _clip(true_log_fee(rows) + np.random.default_rng(seed + 7).normal(0, noise, n))
    out = []
    for i, vector in enumerate(rows.to_dict(orient="records")):
        at = start + timedelta(minutes=i)
        transfer_id = f"t{tag}{seed}-{i}"
        result = PredictionResult(
            request_id=f"r-{transfer_id}",
            player_id=f"p{i}",
            transfer_id=transfer_id,
            status="ok",
            predicted_fee_eur_m=float(math.expm1(predicted[i])),
            model_name=artifact.name,
            model_version=version or artifact.version or "1",
            features={k: float(v) for k, v in vector.items()},
            source="unit-test",
            occurred_at=at,
        )
        transfer = TransferCompleted(
            transfer_id=transfer_id,
            player_id=f"p{i}",
            player_name=f"Player {i}",
            position="Centre-Forward",
            from_club="A FC",
            to_club="B FC",
            season=2000 + season,
            window="summer",
            transferred_at=at,
            fee_eur_m=float(math.expm1(truth[i])),
            source="unit-test",
            occurred_at=at,
        )
        out.append(Observation(result, transfer))
    return out


def small_config(**overrides: object) -> DriftConfig:
    """Windows small enough for fast tests, thresholds at their defaults."""
    values: dict[str, object] = {
        "model_name": MODEL,
        "feature_window": 600,
        "feature_min_rows": 400,
        "check_every": 200,
        "error_window": 200,
        "error_min_rows": 100,
    }
    values.update(overrides)
    return DriftConfig(**values)  # type: ignore[arg-type]


def feed(
    monitor: DriftMonitor, observations: Sequence[Observation], labels: bool = True
) -> list[DriftDetected]:
    events: list[DriftDetected] = []
    for observation in observations:
        events += monitor.observe(observation.result)
        if labels:
            events += monitor.observe(observation.transfer)
    return events


@pytest.fixture(scope="module")
def artifact() -> ModelArtifact:
    return drift_artifact("1")


@pytest.fixture
def store(artifact: ModelArtifact) -> InMemoryModelStore:
    store = InMemoryModelStore()
    store.publish(MODEL, sign_artifact(artifact, KEY), "1")
    return store


def make_monitor(
    store: InMemoryModelStore, tmp_path: Path, check: FeatureCheck = feature_drift
) -> DriftMonitor:
    monitor = DriftMonitor(
        small_config(), StoreReferences(store, MODEL, KEY), FileReports(tmp_path), check=check
    )
    assert monitor.refresh()
    return monitor


class CountingCheck:
    """A stand-in for Evidently: drifted when the window's mean age moved, counted per call."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(
        self, reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], threshold: float
    ) -> FeatureDriftResult:
        self.calls.append(len(current))
        moved = abs(current["age"].mean() - reference["age"].mean()) > 1.0
        scores = {name: (1.0 if moved and name == "age" else 0.0) for name in columns}
        drifted = tuple(name for name, score in scores.items() if score >= threshold)
        return FeatureDriftResult(
            scores=scores,
            methods=dict.fromkeys(columns, "fake"),
            drifted=drifted,
            share=1.0 if moved else 0.0,
            rows=len(current),
            reference_rows=len(reference),
            elapsed_s=0.0,
            report=lambda: None,
        )


class NoReports:
    def save(self, event_id: UUID, result: FeatureDriftResult) -> str:
        return f"reports/{event_id}.html"


# The stream without shift ------------------------------------------------------------------


def test_a_stream_without_shift_raises_no_event(
    store: InMemoryModelStore, artifact: ModelArtifact, tmp_path: Path
) -> None:
    monitor = make_monitor(store, tmp_path)
    # Later seasons than the reference: season_index moves by construction and is left out by rule.
    events = feed(monitor, stream(artifact, 2400, seed=11, season=20))
    assert events == []
    assert monitor.stats.checks >= 8  # the windows were full and really checked
    assert monitor.stats.outcomes == 2400 and monitor.stats.stale == 0
    assert "season_index" not in monitor.feature_columns
    assert len(monitor.feature_columns) == len(FEATURES) - 1


# Feature drift -------------------------------------------------------------------------------


def test_shifted_features_raise_one_feature_event_naming_them(
    store: InMemoryModelStore, artifact: ModelArtifact, tmp_path: Path
) -> None:
    monitor = make_monitor(store, tmp_path)
    observations = stream(artifact, 500, seed=12, shift=SHIFTS)
    events = feed(monitor, observations, labels=False)

    assert len(events) == 1
    event = events[0]
    assert (event.kind, event.model_name, event.model_version) == ("feature", MODEL, "1")
    assert event.method == "evidently:jensenshannon+wasserstein"
    assert event.window_size == 400  # checked, and emitted, as soon as min rows were there
    assert event.window_start == observations[0].result.occurred_at
    assert event.window_end == observations[399].result.occurred_at
    top = sorted(event.scores, key=event.scores.__getitem__, reverse=True)[: len(SHIFTS)]
    assert set(top) == set(SHIFTS)
    assert set(event.scores) == set(FEATURES) - {"season_index"}
    assert event.share_drifted is not None and event.share_drifted >= event.threshold == 0.3
    assert event.report_uri == f"reports/{event.event_id}.html"
    html = resolve_report(tmp_path, event.report_uri)
    assert html.stat().st_size > 10_000 and "market_league_log_fee" in html.read_text(encoding="utf-8")
    assert monitor.window_sizes()[0] == 100  # a fresh window holds only the rows after the event


def test_background_reports_emit_the_event_before_its_html_is_written(
    store: InMemoryModelStore, artifact: ModelArtifact, tmp_path: Path
) -> None:
    reports = BackgroundReports(tmp_path)
    monitor = DriftMonitor(small_config(), StoreReferences(store, MODEL, KEY), reports, check=HeldCheck())
    assert monitor.refresh()
    events = feed(monitor, stream(artifact, 500, seed=12, shift=SHIFTS), labels=False)
    assert len(events) == 1 and events[0].report_uri == f"reports/{events[0].event_id}.html"
    path = tmp_path / events[0].report_uri
    assert not path.exists()  # the report is still being built: the event did not wait for it
    HeldCheck.release.set()
    reports.close()  # waits for the reports being written
    assert path.stat().st_size > 10_000 and "market_league_log_fee" in path.read_text(encoding="utf-8")


class HeldCheck:
    """feature_drift, whose report is built only once the test releases it."""

    release = threading.Event()

    def __call__(
        self, reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], threshold: float
    ) -> FeatureDriftResult:
        result = feature_drift(reference, current, columns, threshold)

        def held() -> object:
            assert HeldCheck.release.wait(60)
            return result.report()

        return replace(result, report=held)


def test_at_most_one_feature_event_per_window(store: InMemoryModelStore, tmp_path: Path) -> None:
    check = CountingCheck()
    monitor = DriftMonitor(small_config(), StoreReferences(store, MODEL, KEY), NoReports(), check=check)
    monitor.refresh()
    shifted = stream(drift_artifact("1"), 1300, seed=13, shift={"age": 5.0})

    events = feed(monitor, shifted[:799], labels=False)
    # One event at 400 rows; the fresh window needs 400 rows again before its next check.
    assert len(events) == 1 and check.calls == [400]
    events = feed(monitor, shifted[799:800], labels=False)
    assert len(events) == 1 and check.calls == [400, 400]
    feed(monitor, shifted[800:1300], labels=False)
    assert check.calls == [400, 400, 400]
    assert monitor.stats.events == 3


def test_checks_run_every_k_rows_on_a_sliding_window(store: InMemoryModelStore, tmp_path: Path) -> None:
    check = CountingCheck()
    monitor = DriftMonitor(small_config(), StoreReferences(store, MODEL, KEY), NoReports(), check=check)
    monitor.refresh()
    assert feed(monitor, stream(drift_artifact("1"), 1200, seed=14), labels=False) == []
    # min 400 rows, then every 200 new rows; the window keeps the latest 600.
    assert check.calls == [400, 600, 600, 600, 600]


# Performance drift ---------------------------------------------------------------------------


def test_a_larger_error_raises_a_performance_event(
    store: InMemoryModelStore, artifact: ModelArtifact, tmp_path: Path
) -> None:
    monitor = make_monitor(store, tmp_path, check=CountingCheck())
    observations = stream(artifact, 150, seed=15, noise=NOISE * 2.5)
    events = feed(monitor, observations)

    assert len(events) == 1
    event = events[0]
    assert (event.kind, event.method, event.window_size) == ("performance", "mae_ratio", 100)
    baseline = artifact.metadata.validation_error
    assert event.reference_error == pytest.approx(baseline)
    assert event.online_error is not None and event.online_error > 1.3 * baseline
    assert event.scores["mae_ratio"] == pytest.approx(event.online_error / baseline)
    assert event.threshold == 1.3 and event.report_uri is None
    assert (event.window_start, event.window_end) == (
        observations[0].transfer.transferred_at,
        observations[99].transfer.transferred_at,
    )
    assert monitor.window_sizes()[1] == 50  # at most one event per window: it started afresh


def test_labels_read_before_their_prediction_are_matched(
    store: InMemoryModelStore, artifact: ModelArtifact, tmp_path: Path
) -> None:
    monitor = make_monitor(store, tmp_path, check=CountingCheck())
    observations = stream(artifact, 120, seed=16, noise=NOISE * 3)
    for observation in observations:
        assert monitor.observe(observation.transfer) == []
    events = [event for o in observations for event in monitor.observe(o.result)]
    assert [event.kind for event in events] == ["performance"]
    assert monitor.stats.outcomes == 120


def test_no_prediction_results_and_free_transfers_are_ignored(
    store: InMemoryModelStore, artifact: ModelArtifact, tmp_path: Path
) -> None:
    monitor = make_monitor(store, tmp_path, check=CountingCheck())
    observation = stream(artifact, 1, seed=17)[0]
    no_model = PredictionResult.model_validate(
        {**observation.result.model_dump(), "status": "no_model", "predicted_fee_eur_m": None},
        strict=False,
    )
    free = TransferCompleted.model_validate(
        {**observation.transfer.model_dump(), "fee_eur_m": 0.0}, strict=False
    )
    assert monitor.observe(no_model) == [] and monitor.observe(free) == []
    assert monitor.stats.ignored == 2 and monitor.window_sizes() == (0, 0)


# Model versions ------------------------------------------------------------------------------


def test_a_new_model_version_reloads_the_reference_and_resets_the_windows(
    store: InMemoryModelStore, artifact: ModelArtifact, tmp_path: Path
) -> None:
    check = CountingCheck()
    monitor = make_monitor(store, tmp_path, check=check)
    old = stream(artifact, 300, seed=18)
    feed(monitor, old[:150])
    assert monitor.window_sizes() == (150, 150)
    feed(monitor, old[150:], labels=False)  # their fees arrive after the swap

    store.publish(MODEL, sign_artifact(drift_artifact("2", seed=5), KEY), "2")
    new = stream(artifact, 50, seed=19, version="2", tag="new")
    feed(monitor, new)
    assert monitor.version == "2"
    assert (
        monitor.reference is not None
        and monitor.reference.validation_error != artifact.metadata.validation_error
    )
    assert monitor.window_sizes() == (50, 50)

    # Late version-1 results and the fees of version-1 predictions do not count for version 2.
    feed(monitor, stream(artifact, 20, seed=20, tag="late"))
    for observation in old[150:]:
        monitor.observe(observation.transfer)
    assert monitor.window_sizes() == (50, 50)
    assert monitor.stats.stale == 20 + 150
    assert check.calls == []


def test_a_rollback_makes_a_stale_version_current_again(
    store: InMemoryModelStore, artifact: ModelArtifact, tmp_path: Path
) -> None:
    monitor = make_monitor(store, tmp_path, check=CountingCheck())
    store.publish(MODEL, sign_artifact(drift_artifact("2", seed=5), KEY), "2")
    feed(monitor, stream(artifact, 10, seed=21, version="2"))
    feed(monitor, stream(artifact, 10, seed=22, version="1"))  # in flight during the swap: stale
    assert monitor.version == "2" and monitor.window_sizes() == (10, 10)

    store.activate(MODEL, "1")
    monitor.on_model_change()  # models.lifecycle: ModelRolledBack
    feed(monitor, stream(artifact, 10, seed=23, version="1"))
    assert monitor.version == "1" and monitor.window_sizes() == (10, 10)


def test_without_a_published_model_results_are_skipped(tmp_path: Path, artifact: ModelArtifact) -> None:
    empty = InMemoryModelStore()
    monitor = DriftMonitor(small_config(), StoreReferences(empty, MODEL, KEY), FileReports(tmp_path))
    assert not monitor.refresh()
    assert feed(monitor, stream(artifact, 5, seed=24)) == []
    assert monitor.version is None and monitor.stats.stale == 5

    empty.publish(MODEL, sign_artifact(artifact, KEY), "1")
    monitor.on_model_change()
    feed(monitor, stream(artifact, 5, seed=25))
    assert monitor.version == "1" and monitor.window_sizes() == (5, 5)
