"""Shadow promotion through the real processes: drift -> retrainer -> shadow -> labels -> monitor -> swap.

Real parts: the session stack's broker, redis-server and MLflow on SQLite; `mlops-fc
retrainer`, `mlops-fc monitor` and one `mlops-fc worker` as processes, in shadow mode. A
drift event starts it; the retrainer trains a challenger on the history (the market moved:
fees four times what version 1 learned), it passes the holdout gate and is published as
ModelShadowed; the worker scores every request with both; the replay's real fees reach the
monitor, which promotes the challenger on the paired evidence; the worker swaps. Waits are
conditions with deadlines.
"""

from __future__ import annotations

from datetime import timedelta

from mlflow import MlflowClient

from devstack.services import Service, start_service
from modelstore.mlflow_registry import champion_version, version_tags
from monitoring.bootstrap import SHADOW_SOURCE
from retrainer.handler import PARAM_TRIGGER, TAG_OUTCOME
from retrainer.initial import train_initial
from schemas.codec import decode
from schemas.envelope import Event
from schemas.evidence import ShadowEvidence
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelShadowed
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionResult
from schemas.topics import (
    MODELS_LIFECYCLE,
    MONITORING_DRIFT,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_RESULTS,
    PREDICTIONS_SHADOW,
    TRANSFERS_COMPLETED,
)
from stack.settings import Settings
from tests.api_helpers import wait_until
from tests.e2e.test_retrainer_flow import inflated, probe
from tests.flow_helpers import (
    SHADOW_FAST,
    collecting,
    history,
    publish,
    running_workers,
    serving_version,
    shadow_version,
)
from tests.integration.test_shadow_promotion import answered_once, replay
from tests.kafka_helpers import consume_until

TIMEOUT = 600.0  # a deadline, not a threshold: training under a load of 15+ took over 4 min
PAST = history(900)  # what version 1 learns
# The market moved: transfers after version 1's window at four times the fees. The retrainer
# holds the latest out, learns from the earlier ones and passes the gate.
SHIFTED = inflated(history(600, seed=12, start=PAST[-1].transferred_at + timedelta(hours=6)), 4.0)
STREAM = inflated(history(400, seed=11, start=SHIFTED[-1].transferred_at + timedelta(hours=6)), 4.0)


def drift_of(settings: Settings, version: str) -> DriftDetected:
    """What the monitor publishes when the error of ``version`` grew (the trigger of this flow)."""
    return DriftDetected(
        source="drift-monitor",
        model_name=settings.model_name,
        model_version=version,
        kind="performance",
        method="mae_ratio",
        window_start=SHIFTED[0].transferred_at,
        window_end=SHIFTED[-1].transferred_at,
        window_size=len(SHIFTED),
        threshold=1.5,
        online_error=4.0,
        reference_error=1.0,
    )


def lifecycle(settings: Settings, done: type[Event], source: str | None = None) -> list[Event]:
    """Lifecycle events from the start until one of kind ``done`` (from ``source``) was seen."""

    def seen(event: Event) -> bool:
        return isinstance(event, done) and (source is None or event.source == source)

    messages = consume_until(
        settings,
        settings.topic(MODELS_LIFECYCLE.name),
        lambda ms: any(seen(decode(m.value())) for m in ms),
        timeout=TIMEOUT,
    )
    return [decode(m.value()) for m in messages]


def read_results(settings: Settings, topic: str, count: int) -> list[PredictionResult]:
    messages = consume_until(settings, settings.topic(topic), lambda ms: len(ms) >= count, timeout=TIMEOUT)
    return [decode(m.value(), m.headers(), expected=PredictionResult) for m in messages]


def logs(*services: Service) -> str:
    return "\n".join(f"--- {s.name}\n{s.log_tail()}" for s in services)


def test_a_drift_event_ends_in_a_shadow_promotion_through_the_real_retrainer_monitor_and_worker(
    settings: Settings,
) -> None:
    settings = settings.model_copy(
        update={
            **SHADOW_FAST,
            # No cool-down: drift while version 2 is judged must wait for its verdict by itself.
            "retrain_cooldown_s": 0.0,
        }
    )
    publish(settings, TRANSFERS_COMPLETED, PAST)
    assert train_initial(settings, transfers=PAST).version == "1"
    publish(settings, TRANSFERS_COMPLETED, SHIFTED)
    retrainer = start_service(settings, "retrainer", "retrainer")
    monitor = start_service(settings, "monitor", "monitor")
    try:
        with collecting(settings) as results, running_workers(settings, "w1") as (worker,):
            services = (retrainer, monitor, worker)
            first = drift_of(settings, "1")
            publish(settings, MONITORING_DRIFT, [first])
            before = lifecycle(settings, ModelShadowed)
            shadowed = before[-1]
            assert isinstance(shadowed, ModelShadowed), logs(*services)
            assert (shadowed.version, shadowed.champion_version, shadowed.source) == ("2", "1", "retrainer")
            assert not any(isinstance(e, ModelPromoted) and e.version == "2" for e in before)
            # Version 1 drifts on while 2 is judged: that drift waits for 2's verdict.
            again = drift_of(settings, "1")
            publish(settings, MONITORING_DRIFT, [again])
            waited = f"{again.event_id} -> skipped: version 2 is in shadow"
            assert wait_until(lambda: waited in retrainer.log_path.read_text(errors="replace"), TIMEOUT), (
                logs(*services)
            )
            # The worker loads the shadow model beside the champion; then the replay streams.
            assert wait_until(lambda: shadow_version(worker) == 2, TIMEOUT), logs(*services)
            requests = replay(settings, STREAM)
            events = lifecycle(settings, ModelPromoted, source=SHADOW_SOURCE)
            promoted = events[-1]
            assert isinstance(promoted, ModelPromoted) and promoted.version == "2", logs(*services)
            assert promoted.previous_version == "1"
            evidence = promoted.evidence
            assert isinstance(evidence, ShadowEvidence) and evidence.pairs >= settings.shadow_min_pairs
            assert evidence.challenger_mean_error < evidence.champion_mean_error
            assert evidence.p_value is not None and evidence.p_value < settings.shadow_alpha
            assert not any(isinstance(e, ModelRejected) for e in events)
            assert wait_until(lambda: serving_version(worker) == 2, TIMEOUT), logs(*services)
            after = probe(30, "after")
            publish(settings, PREDICTIONS_REQUESTS, after)
            assert results.wait_until(lambda _: answered_once(results, requests + after), TIMEOUT), logs(
                *services
            )
            seen = dict(results.results)
    finally:
        monitor.stop()
        retrainer.stop()
    # No user-visible result lost or duplicated; after the swap version 2 answers.
    assert all(len(seen[r.request_id]) == 1 for r in requests + after)
    assert {seen[r.request_id][0].model_version for r in after} == {"2"}
    # Version 2 scored in shadow while 1 served, and none of its shadow results reached
    # predictions.results: every result there by version 2 is an answer after the promotion.
    in_shadow = [
        r for r in read_results(settings, PREDICTIONS_SHADOW.name, evidence.pairs) if r.model_version == "2"
    ]
    assert len(in_shadow) >= evidence.pairs
    shadow_ids = {r.request_id for r in in_shadow}
    assert {seen[i][0].model_version for i in shadow_ids} == {"1"}
    answered = read_results(settings, PREDICTIONS_RESULTS.name, len(requests) + len(after))
    assert not shadow_ids & {r.request_id for r in answered if r.model_version == "2"}
    assert len(answered) == len({r.request_id for r in answered}) == len(requests) + len(after)
    client = MlflowClient(settings.mlflow_uri)
    assert champion_version(client, settings.model_name) == "2"
    assert version_tags(client, settings.model_name, "2")[TAG_OUTCOME] == "shadowed"
    # The drift that came while 2 was judged trained nothing (later drift of 2 may train).
    triggers = {
        client.get_run(v.run_id).data.params.get(PARAM_TRIGGER)
        for v in client.search_model_versions(f"name='{settings.model_name}'")
        if v.run_id
    }
    assert str(again.event_id) not in triggers and str(first.event_id) in triggers
