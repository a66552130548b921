"""Interval calibration, pure: conformal offsets, the rolling calibrator, the worker's apply."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from inference.calibrated import apply_bounds
from modelstore.calibration import BoundsStore, CalibratedBounds, read_health
from modelstore.exceptions import EvidenceStoreUnavailable
from monitoring.calibration import CalibrationConfig, Calibrator, conformal_offsets
from monitoring.label_health import LabelHealth
from monitoring.live_evidence import LiveEvidence
from monitoring.windows import Label, OutcomeJoin, Prediction
from schemas.predictions import PredictionResult

AT = datetime(2024, 1, 1, tzinfo=UTC)


class FakeHashes:
    def __init__(self) -> None:
        self.hashes: dict[str, dict[str, bytes]] = {}

    def hset(self, name: str, key: str, value: bytes) -> int:
        self.hashes.setdefault(name, {})[key] = value
        return 1

    def hgetall(self, name: str) -> dict[bytes, bytes]:
        return {k.encode(): v for k, v in self.hashes.get(name, {}).items()}


def result(version: str, fee: float, low: float | None = None, high: float | None = None) -> PredictionResult:
    return PredictionResult(
        request_id="r1",
        player_id="p1",
        transfer_id="t1",
        status="ok",
        predicted_fee_eur_m=fee,
        interval_low=low,
        interval_high=high,
        model_name="transfer-fee",
        model_version=version,
        source="unit-test",
    )


def test_conformal_offsets_are_the_split_conformal_order_statistics() -> None:
    residuals = [float(v) for v in range(1, 100)]  # 99 values, n + 1 = 100
    assert conformal_offsets(residuals, 0.8) == (10.0, 90.0)
    assert conformal_offsets([0.5], 0.8) == (0.5, 0.5)
    with pytest.raises(ValueError):
        conformal_offsets([], 0.8)


def test_the_calibrator_waits_for_min_labels_then_publishes_every_few() -> None:
    calibrator = Calibrator(CalibrationConfig(level=0.8, window=50, min_labels=20, publish_every=5))
    published = [calibrator.add("1", float(i)) for i in range(40)]
    due = [i for i, bounds in enumerate(published) if bounds is not None]
    assert due == [19, 24, 29, 34, 39]  # at min_labels, then every publish_every labels
    assert calibrator.bounds("2") is None and calibrator.labels("1") == 40
    bounds = published[-1]
    assert bounds is not None and bounds.labels == 40 and bounds.version == "1"
    assert bounds.low < bounds.high
    # another version starts afresh: its own residuals only
    assert calibrator.add("2", 100.0) is None and calibrator.bounds("2") is None


def test_a_new_version_seeded_from_its_predecessor_waits_for_its_own_labels() -> None:
    """The seed widens the first bounds of a version and leaves, first in first out."""
    calibrator = Calibrator(
        CalibrationConfig(level=0.8, window=50, min_labels=20, publish_every=5, seed_from_predecessor=True)
    )
    for i in range(50):
        calibrator.add("1", float(i - 25))  # the predecessor's spread: -25..24
    assert calibrator.labels("1") == 50
    published = [calibrator.add("2", 0.0) for _ in range(20)]
    assert all(bounds is None for bounds in published[:19])  # min_labels of its own first
    first = published[19]
    assert first is not None and first.labels == 50  # 20 own residuals + the 30 latest seeded
    assert first.low < 0 < 1 < first.high  # the seed's spread (-5..24), not the zeros alone
    for _ in range(30):
        calibrator.add("2", 0.0)
    assert calibrator.bounds("2") == CalibratedBounds("2", 0.8, 0.0, 0.0, 50)  # the seed is gone
    unseeded = Calibrator(CalibrationConfig(level=0.8, window=50, min_labels=20, publish_every=5))
    unseeded.add("1", -25.0)
    assert unseeded.add("2", 0.0) is None and unseeded.labels("2") == 1


def test_the_config_refuses_impossible_values() -> None:
    with pytest.raises(ValueError):
        CalibrationConfig(level=1.0)
    with pytest.raises(ValueError):
        CalibrationConfig(window=10, min_labels=20)
    with pytest.raises(ValueError):
        CalibrationConfig(adapt_step=-0.1)


def test_coverage_returns_to_the_level_after_the_noise_triples() -> None:
    """The model's interval was right for noise 0.4; the market's noise becomes 1.2."""
    rng = np.random.default_rng(7)
    config = CalibrationConfig(level=0.8, window=400, min_labels=100, publish_every=25)
    calibrator = Calibrator(config)
    for residual in rng.normal(0, 0.4, 400):
        calibrator.add("1", float(residual))
    before = calibrator.bounds("1")
    assert before is not None
    fresh = rng.normal(0, 1.2, 20_000)
    covered_before = float(np.mean((fresh >= before.low) & (fresh <= before.high)))
    assert covered_before < 0.5  # the old bounds cover far too little
    for residual in rng.normal(0, 1.2, config.window):  # one window of labels after the shift
        calibrator.add("1", float(residual))
    after = calibrator.bounds("1")
    assert after is not None
    covered_after = float(np.mean((fresh >= after.low) & (fresh <= after.high)))
    assert abs(covered_after - 0.8) <= 0.04


def test_apply_bounds_replaces_the_interval_of_its_version_only() -> None:
    bounds = {"2": CalibratedBounds("2", 0.8, -0.5, 0.7, 150)}
    served = apply_bounds([result("2", 10.0, 9.0, 11.0), result("1", 10.0, 9.0, 11.0)], bounds)
    log_fee = math.log1p(10.0)
    assert served[0].interval_low == pytest.approx(math.expm1(log_fee - 0.5))
    assert served[0].interval_high == pytest.approx(math.expm1(log_fee + 0.7))
    assert (served[1].interval_low, served[1].interval_high) == (9.0, 11.0)
    # the interval always holds the fee, even with offsets of one sign
    shifted = apply_bounds([result("2", 10.0)], {"2": CalibratedBounds("2", 0.8, 0.1, 0.3, 150)})[0]
    assert shifted.interval_low == 10.0 and shifted.interval_high is not None and shifted.interval_high > 10.0
    no_bounds = [result("2", 1.0)]
    assert apply_bounds(no_bounds, {}) is no_bounds


def test_bounds_round_trip_through_the_hash_and_bad_values_are_skipped() -> None:
    hashes = FakeHashes()
    store = BoundsStore(hashes, "p-", "transfer-fee")
    store.publish(CalibratedBounds("3", 0.8, -0.4, 0.6, 120))
    hashes.hashes[store.key]["4"] = b"not json"
    hashes.hashes[store.key]["5"] = CalibratedBounds("6", 0.8, -0.4, 0.6, 120).to_json()  # wrong field
    assert store.read() == {"3": CalibratedBounds("3", 0.8, -0.4, 0.6, 120)}


def test_the_join_carries_interval_and_delay_and_reads_older_saves() -> None:
    join = OutcomeJoin(10)
    assert join.add_prediction("t1", Prediction(1.0, "1", 0.5, 1.5, 100.0)) is None
    outcome = join.add_label("t1", Label(1.6, AT, 130.0))
    assert outcome is not None
    assert outcome.residual == pytest.approx(0.6) and outcome.abs_error == pytest.approx(0.6)
    assert outcome.covered is False and outcome.delay_s == pytest.approx(30.0)
    join.add_prediction("t2", Prediction(1.0, "1", 0.5, 1.5, 100.0))
    saved = join.dump()
    again = OutcomeJoin(10)
    again.load(saved)
    assert again.predictions.items() == join.predictions.items()
    again.load({"predictions": [["t3", 1.0, "1"]], "labels": [["t4", 2.0, AT.isoformat()]]})  # format 1
    assert again.predictions.items() == [("t3", Prediction(1.0, "1"))]
    assert again.labels.items() == [("t4", Label(2.0, AT))]


def test_live_evidence_writes_bounds_and_health_per_version() -> None:
    evidence = LiveEvidence(
        Calibrator(CalibrationConfig(window=20, min_labels=10, publish_every=5)),
        LabelHealth(keep=100),
        clock=lambda: 1000.0,
    )
    join = OutcomeJoin(100)
    for i in range(12):
        evidence.on_result(result("1", 3.0))
        join.add_prediction(f"t{i}", Prediction(math.log1p(3.0), "1", 1.0, 1.45, 100.0))
        outcome = join.add_label(f"t{i}", Label(math.log1p(3.0) + (0.1 if i % 2 else -0.1), AT, 110.0 + i))
        assert outcome is not None
        evidence.on_outcome(outcome)
    evidence.on_result(result("1", 3.0))  # answered, not yet labelled
    hashes = FakeHashes()
    evidence.flush(hashes, "p-", "transfer-fee")
    assert BoundsStore(hashes, "p-", "transfer-fee").read()["1"].labels == 10
    health: dict[str, Any] = read_health(hashes, "p-", "transfer-fee")["1"]
    assert health["requests_answered"] == 13 and health["labels_received"] == 12
    assert health["label_share"] == pytest.approx(12 / 13)
    assert health["label_delay_p50_s"] == pytest.approx(15.5)
    assert health["live_mae_log"] == pytest.approx(0.1)
    assert health["interval_coverage"] == pytest.approx(0.5)  # log1p(3) = 1.386: +0.1 falls out
    assert health["calibrated"]["labels"] == 10


def test_the_demo_report_counts_fees_inside_above_and_below_the_interval() -> None:
    from demo.coverage import interval_coverage
    from schemas.records import TransferCompleted

    def transfer(tid: str, fee: float, season: int) -> TransferCompleted:
        return TransferCompleted(
            transfer_id=tid, player_id="p1", player_name="P", position="Centre-Forward", from_club="A",
            to_club="B", season=season, window="summer", transferred_at=AT, fee_eur_m=fee, source="unit-test",
        )  # fmt: skip

    fees = {"a": transfer("a", 10.0, 2020), "b": transfer("b", 30.0, 2020), "c": transfer("c", 1.0, 2021)}
    results = [
        result("1", 10.0, 8.0, 12.0).model_copy(update={"transfer_id": tid}) for tid in ("a", "b", "c")
    ]
    shown = interval_coverage(results, fees)
    assert shown["overall"] == {"rows": 3, "covered": 0.3333, "above": 0.3333, "below": 0.3333}
    assert shown["seasons"] == {
        "2020": {"rows": 2, "covered": 0.5, "above": 0.5, "below": 0.0},
        "2021": {"rows": 1, "covered": 0.0, "above": 0.0, "below": 1.0},
    }


def test_adaptive_tails_follow_a_market_that_keeps_moving() -> None:
    """Residuals drift downward (fees falling below the predictions, as in 2020) faster than
    a window of 400 follows: plain conformal keeps missing below; the adaptive tails do not."""
    rng = np.random.default_rng(11)
    residuals = rng.normal(0, 0.5, 3_000) - np.linspace(0.0, 3.0, 3_000)

    def coverage(step: float) -> tuple[float, float]:
        calibrator = Calibrator(CalibrationConfig(level=0.8, window=400, min_labels=100, adapt_step=step))
        served, covered, below = None, 0, 0
        for residual in residuals:
            if served is not None:
                covered += int(served.low <= residual <= served.high)
                below += int(residual < served.low)
            served = calibrator.add("1", float(residual)) or served
        judged = len(residuals) - 100
        return covered / judged, below / judged

    plain, plain_below = coverage(0.0)
    adaptive, adaptive_below = coverage(0.02)
    assert plain_below > 0.15  # the lag: far more than the 10 % share below
    assert abs(adaptive - 0.8) < abs(plain - 0.8)
    assert abs(adaptive_below - 0.1) < 0.03


def test_adaptive_tails_leave_exchangeable_residuals_at_the_level() -> None:
    rng = np.random.default_rng(5)
    calibrator = Calibrator(CalibrationConfig(level=0.8, window=400, min_labels=100, adapt_step=0.02))
    served, covered, judged = None, 0, 0
    for residual in rng.normal(0, 0.5, 5_000):
        if served is not None:
            covered += int(served.low <= residual <= served.high)
            judged += 1
        served = calibrator.add("1", float(residual)) or served
    assert abs(covered / judged - 0.8) < 0.02


def test_due_bounds_go_out_at_once_and_a_redis_failure_waits_for_the_end_of_the_batch() -> None:
    written: list[int] = []
    failing = [False]

    def publish(bounds: CalibratedBounds) -> None:
        if failing[0]:
            raise EvidenceStoreUnavailable("Redis did not answer (writing calibrated bounds): down")
        written.append(bounds.labels)

    evidence = LiveEvidence(
        Calibrator(CalibrationConfig(window=100, min_labels=10, publish_every=5)), publish=publish
    )
    join = OutcomeJoin(100)

    def labels(first: int, last: int) -> None:
        for i in range(first, last):
            join.add_prediction(f"t{i}", Prediction(1.0, "1"))
            outcome = join.add_label(f"t{i}", Label(1.0 + (i % 7) / 10, AT))
            assert outcome is not None
            evidence.on_outcome(outcome)

    labels(0, 15)
    assert written == [10, 15] and not evidence.due  # as they fell due, before any flush
    failing[0] = True
    labels(15, 20)
    failing[0] = False
    labels(20, 25)  # Redis is back, but the writes wait for the end of the batch
    assert written == [10, 15] and evidence.due["1"].labels == 25
    hashes = FakeHashes()
    evidence.flush(hashes, "p-", "transfer-fee")
    assert BoundsStore(hashes, "p-", "transfer-fee").read()["1"].labels == 25 and not evidence.due
    labels(25, 30)
    assert written == [10, 15, 30]  # at once again
