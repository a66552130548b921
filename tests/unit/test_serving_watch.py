"""The champion against what the workers serve: a disagreement past the grace is reported once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from api.metrics import ApiMetrics
from api.serving import ServingWatch
from consumers.exceptions import StoreUnavailable
from consumers.worker_beats import WorkerBeat


class Beats:
    def __init__(self) -> None:
        self.versions: dict[str, str | None] = {}
        self.down = False
        self.seen_any = False

    def read(self) -> list[WorkerBeat]:
        if self.down:
            raise StoreUnavailable("Redis did not answer")
        self.seen_any = self.seen_any or bool(self.versions)
        now = datetime.now(UTC)
        return [WorkerBeat(worker=w, model_version=v, updated_at=now) for w, v in self.versions.items()]


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def watch(beats: Beats, clock: Clock, champion: list[str | None]) -> ServingWatch:
    return ServingWatch(
        lambda: champion[0],
        lambda: champion[0],
        beats,
        every_s=5,
        grace_s=30,
        clock=clock,
    )


def test_a_lasting_disagreement_is_reported_once_then_cleared(caplog: pytest.LogCaptureFixture) -> None:
    beats, clock = Beats(), Clock()
    champion: list[str | None] = ["2"]
    beats.versions = {"w1": "2", "w2": "1"}
    watched = watch(beats, clock, champion)
    caplog.set_level(logging.INFO, logger="api.serving")

    assert watched.check_once().disagreement is False  # within the grace: a swap in progress
    clock.now += 29
    assert watched.check_once().disagreement is False
    clock.now += 2
    view = watched.check_once()
    assert view.disagreement is True and view.versions == ["1", "2"] and view.champion == "2"
    clock.now += 5
    assert watched.check_once().disagreement is True
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "champion is version 2" in warnings[0].getMessage()

    beats.versions["w2"] = "2"
    assert watched.check_once().disagreement is False
    assert any("serve the champion (version 2) again" in r.getMessage() for r in caplog.records)


def test_a_worker_without_a_model_disagrees_and_is_not_serving() -> None:
    beats, clock = Beats(), Clock()
    beats.versions = {"w1": None}
    watched = ServingWatch(lambda: "3", lambda: "3", beats, every_s=5, grace_s=0, clock=clock)
    view = watched.check_once()
    assert view.disagreement is True and not view.serves_model and view.workers_reporting


def test_redis_down_keeps_the_last_view_and_says_why() -> None:
    beats, clock = Beats(), Clock()
    beats.versions = {"w1": "1"}
    watched = ServingWatch(lambda: "1", lambda: "1", beats, every_s=5, grace_s=0, clock=clock)
    watched.check_once()
    beats.down = True
    view = watched.check_once()
    assert view.error is not None and "Redis" in view.error and view.versions == ["1"]
    beats.down = False
    assert watched.check_once().error is None


def test_metrics_show_the_champion_each_worker_and_the_disagreement() -> None:
    metrics = ApiMetrics()
    metrics.state.champion = lambda: "3"
    metrics.state.worker_versions = lambda: {"w1": "3", "w2": None}
    metrics.state.disagreement = lambda: True
    from prometheus_client import generate_latest

    text = generate_latest(metrics.registry).decode()
    assert "mlops_fc_registry_champion_version 3.0" in text
    assert 'mlops_fc_worker_serving_version{worker="w1"} 3.0' in text
    assert 'mlops_fc_worker_serving_version{worker="w2"} 0.0' in text
    assert "mlops_fc_model_disagreement 1.0" in text
