"""Calibrated intervals on the real broker and Redis: the noise triples, coverage comes back.

The model's own 80 % interval fits a log-fee noise of 0.4. The market's noise becomes 1.2:
results (with that interval) and their real fees go through the real topics to the drift
monitor loop (its own consumer group, in a thread), which recalibrates the version's
interval and writes the bounds to the real Redis. The worker's part (inference.calibrated)
reads them from Redis as its timer does and applies them to fresh results of the shifted
law: after one calibration window of labels (200 here, the stated number), they cover
80 +/- 4 % of the real fees where the model's own interval covered under half.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from scipy.stats import norm

from inference.calibrated import IntervalBounds
from modelstore import ModelArtifact
from modelstore.calibration import BoundsStore, read_health
from monitoring.bootstrap import build_loop
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.integration.test_drift_monitor import RunningLoop, artifact, publish  # noqa: F401 - fixture
from tests.unit.test_drift_monitor import NOISE, Observation, stream

pytestmark = pytest.mark.integration
LEVEL = 0.8
WINDOW = 200  # labels after the shift until the interval is calibrated again
OWN = float(norm.ppf(0.5 + LEVEL / 2)) * NOISE  # the model's own interval: +/- this on log fee


@pytest.fixture
def monitor_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "state_dir": tmp_path,
            "interval_level": LEVEL,
            "interval_window": WINDOW,
            "interval_min_labels": 100,
            "interval_publish_every": 25,
        }
    )


@pytest.fixture
def running(monitor_settings: Settings, artifact: ModelArtifact) -> Iterator[RunningLoop]:  # noqa: F811
    runner = RunningLoop(build_loop(monitor_settings))
    runner.thread.start()
    yield runner
    runner.stop.set()
    runner.thread.join(timeout=30)
    assert not runner.thread.is_alive()


def with_own_interval(observations: Sequence[Observation]) -> list[Observation]:
    out = []
    for o in observations:
        log_fee = math.log1p(o.result.predicted_fee_eur_m or 0.0)
        low, high = math.expm1(log_fee - OWN), math.expm1(log_fee + OWN)
        result = o.result.model_copy(update={"interval_low": max(0.0, low), "interval_high": high})
        out.append(Observation(result, o.transfer))
    return out


def coverage(observations: Sequence[Observation]) -> float:
    inside = 0
    for o in observations:
        low, high, fee = o.result.interval_low, o.result.interval_high, o.transfer.fee_eur_m
        assert low is not None and high is not None
        inside += int(low <= fee <= high)
    return inside / len(observations)


def test_coverage_returns_to_the_level_within_one_window_after_the_noise_triples(
    monitor_settings: Settings,
    artifact: ModelArtifact,  # noqa: F811
    running: RunningLoop,
) -> None:
    shifted = with_own_interval(stream(artifact, WINDOW, seed=51, noise=NOISE * 3, season=20))
    sent = publish(monitor_settings, shifted)
    running.wait(lambda: running.loop.processed >= sent, f"{sent} messages processed")
    assert running.loop.monitor.stats.outcomes == WINDOW

    client = redis_client(monitor_settings)
    try:
        store = BoundsStore(client, monitor_settings.topic_prefix, monitor_settings.model_name)
        bounds = IntervalBounds(store)

        def calibrated_on_the_window() -> bool:
            asyncio.run(bounds.refresh())
            return "1" in bounds.current and bounds.current["1"].labels == WINDOW

        running.wait(calibrated_on_the_window, "the bounds of the whole window in Redis")
        health = read_health(client, monitor_settings.topic_prefix, monitor_settings.model_name)["1"]
    finally:
        client.close()
    calibrated = bounds.current["1"]
    assert calibrated.labels == WINDOW and calibrated.level == LEVEL

    # Fresh requests of the shifted market, as a worker serves them with what it read.
    fresh = with_own_interval(stream(artifact, 2000, seed=52, noise=NOISE * 3, season=20, tag="fresh"))
    own = coverage(fresh)
    applied = bounds.apply([o.result for o in fresh])
    served = [Observation(r, o.transfer) for r, o in zip(applied, fresh, strict=True)]
    assert own < 0.5
    assert abs(coverage(served) - LEVEL) <= 0.04

    # The label health the monitor wrote for the facade says the same about the sent stream.
    assert health["requests_answered"] == WINDOW and health["labels_received"] == WINDOW
    assert health["label_share"] == 1.0
    assert health["interval_coverage"] == pytest.approx(coverage(shifted))
    assert health["calibrated"]["labels"] == WINDOW
    assert (
        health["label_delay_p50_s"] is not None and health["label_delay_p90_s"] >= health["label_delay_p50_s"]
    )
