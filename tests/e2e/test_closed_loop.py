"""The whole loop on the real stack: a market that shifts is detected, retrained on and served."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.demo import run_demo
from demo.scenario import SyntheticPlan, load_scenario
from devstack.processes import free_port
from devstack.services import start_service
from producers.synthetic import DriftSpec
from stack.settings import Settings


@pytest.mark.timeout(1200)  # the whole loop, several retrains, on 2 shared cores
def test_a_shifted_stream_gives_drift_a_retrain_a_promotion_and_the_new_model_serving(
    settings: Settings, tmp_path: Path
) -> None:
    # No data folder: the synthetic market, whose fees grow 2.5 times from 2014 on. Three seasons
    # after the shift: the holdout gate rejects challengers until enough shifted fees lie outside
    # its holdout (the first model serves all of 2014 in most runs), so the gain shows later.
    plan = SyntheticPlan(seed=3, first_season=2009, per_season=500, drift=DriftSpec(2014, fee_inflation=2.5))
    scenario = load_scenario(None, base_until=2012, last_season=2016, synthetic=plan)
    assert scenario.source == "synthetic"
    # Holdout promotion: the loop asserts a challenger serves as soon as it passes the gate.
    loop = settings.model_copy(update={"retrain_cooldown_s": 0.0, "promotion": "holdout"})
    # run_demo drives the services that run (`mlops-fc run` starts them with `up`): start them here.
    services = [
        start_service(
            loop, "worker-1", "worker", "--name", "loop-worker-1", "--metrics-port", str(free_port())
        ),
        start_service(loop, "monitor", "monitor"),
        start_service(loop, "retrainer", "retrainer"),
    ]
    try:
        report = run_demo(loop, scenario, tmp_path)
    finally:
        for service in services:
            service.stop()
    assert report.results == report.requests > 0  # every replayed request answered
    assert report.drift_events, "no drift event on a shifted stream"
    promoted = [p for p in report.promotions if p["drift_event_id"] is not None]
    assert promoted, f"no promotion: rejections {report.rejections}"
    # The promoted model served: its first result came after its drift event.
    assert all(isinstance(s := p["drift_to_first_result_s"], float) and s > 0 for p in promoted)
    # By the last season the live system beats the model that never learned the shift, on the
    # log fee it is fitted and gated on and in euros. (Not per season: a model that wins the
    # gate on log error can still cost more euros in its first season, on a few dear deals.)
    last = max((s for s in report.seasons if s.season is not None), key=lambda s: s.season or 0)
    assert last.season == 2016
    assert last.live_r2_log > last.static_r2_log
    assert last.live_mae_eur_m < last.static_mae_eur_m
    assert (tmp_path / "report.json").exists() and (tmp_path / "report.png").exists()
