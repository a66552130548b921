"""Promotion on live evidence, on the real stack: shadow scoring, verdicts on late labels, rollback.

Real parts: the broker, redis-server and MLflow on SQLite of the session stack; one
`mlops-fc worker` process; the monitor loop (monitoring/bootstrap.build_loop, shadow mode)
in a thread. Models are trained here and go through the lifecycle registry as the retrainer
and the API move them (register, shadow, promote by hand). The stream is the replay's: each
request just before the real fee of the same transfer. Waits are conditions with deadlines.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import Message

from consumers.models_view import MlflowModels
from devstack.services import Service, settings_env
from features.training_set import build_training_set
from modelstore.lifecycle import Registry
from modelstore.mlflow_registry import RegisteredArtifact, champion_version
from modelstore.redis_cache import ModelCache
from modelstore.shadow import pairs_prefix
from modelstore.verdict_outbox import VerdictOutbox
from monitoring.bootstrap import SHADOW_SOURCE, build_loop
from monitoring.shadow_pairs import RedisPairs
from retrainer.initial import train_initial
from retrainer.training import train_model
from schemas.codec import decode
from schemas.envelope import Event
from schemas.evidence import ShadowEvidence
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelRolledBack, ModelShadowed
from schemas.predictions import PredictionRequest, PredictionResult, request_from_transfer
from schemas.records import TransferCompleted
from schemas.topics import (
    MODELS_LIFECYCLE,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_SHADOW,
    TRANSFERS_COMPLETED,
    TopicSpec,
)
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.api_helpers import wait_until
from tests.e2e.test_retrainer_flow import inflated, lifecycle_until, probe
from tests.faults.test_retrainer_faults import all_events
from tests.flow_helpers import (
    SHADOW_FAST,
    ResultCollector,
    collecting,
    history,
    metrics_url,
    publish,
    publish_in_order,
    running_workers,
    sample,
    scrape,
    serving_version,
)
from tests.integration.test_drift_monitor import RunningLoop
from tests.kafka_helpers import consume_until

pytestmark = pytest.mark.integration
TIMEOUT = 300.0
PAST = history(900)  # what the first model learns: the market as it was
LATER = history(400, seed=11, start=PAST[-1].transferred_at + timedelta(hours=6))  # the stream


@pytest.fixture
def shadow_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Shadow mode with verdicts after a few dozen pairs; version 1 trained on PAST and serving."""
    shadowed = settings.model_copy(update={**SHADOW_FAST, "state_dir": tmp_path})
    publish(shadowed, TRANSFERS_COMPLETED, PAST)
    assert train_initial(shadowed, transfers=PAST).version == "1"
    return shadowed


@pytest.fixture
def monitor(shadow_settings: Settings) -> Iterator[RunningLoop]:
    runner = RunningLoop(build_loop(shadow_settings))
    assert runner.loop.shadow is not None
    runner.thread.start()
    yield runner
    runner.stop.set()
    runner.thread.join(timeout=60)
    assert not runner.thread.is_alive()


def registered(
    settings: Settings, transfers: list[TransferCompleted], name: str
) -> tuple[Registry, RegisteredArtifact]:
    """A challenger trained on ``transfers``, registered in MLflow (not serving)."""
    artifact = train_model(build_training_set(transfers), settings.model_name, tags={"trigger": "test"})
    registry = Registry.connect(settings, make_producer(settings), source="test")
    return registry, registry.register(artifact, run_name=name, params={"trigger": "test"})


def replay(settings: Settings, transfers: list[TransferCompleted]) -> list[PredictionRequest]:
    """Each request, then its real fee, as the ingester's --as-requests replay publishes them."""
    requests = [request_from_transfer(t) for t in transfers]
    items: list[tuple[TopicSpec, Event]] = []
    for request, transfer in zip(requests, transfers, strict=True):
        items += [(PREDICTIONS_REQUESTS, request), (TRANSFERS_COMPLETED, transfer)]
    publish_in_order(settings, items)
    return requests


def answered_once(results: ResultCollector, requests: list[PredictionRequest]) -> bool:
    return all(len(results.results.get(r.request_id, [])) >= 1 for r in requests)


def shadow_results(settings: Settings, count: int) -> list[PredictionResult]:
    messages = consume_until(
        settings, settings.topic(PREDICTIONS_SHADOW.name), lambda ms: len(ms) >= count, timeout=TIMEOUT
    )
    return [decode(m.value(), m.headers(), expected=PredictionResult) for m in messages]


def verdict(settings: Settings, kind: type[Event], monitor: RunningLoop, worker: Service) -> Event:
    """The first lifecycle event of ``kind`` the shadow judge (the monitor) published."""

    def judged(messages: list[Message]) -> bool:
        return any(_by_judge(decode(m.value()), kind) for m in messages)

    messages = consume_until(settings, settings.topic(MODELS_LIFECYCLE.name), judged, timeout=TIMEOUT)
    found = [event for m in messages if _by_judge(event := decode(m.value()), kind)]
    if not found:
        decider = monitor.loop.shadow
        assert decider is not None
        pointer = decider.pointer
        pairs = None if pointer is None else decider.pairs.count(pointer.session)
        kinds = [type(decode(m.value())).__name__ for m in messages]
        raise AssertionError(
            f"no {kind.__name__} by the judge; lifecycle {kinds};"
            f" slot {pointer}, pairs {pairs}, monitor error {monitor.error!r}\n{worker.log_tail()}"
        )
    return found[0]


def _by_judge(event: Event, kind: type[Event]) -> bool:
    return isinstance(event, kind) and event.source == SHADOW_SOURCE


def test_a_clearly_better_challenger_goes_to_shadow_is_promoted_on_its_evidence_and_the_worker_swaps(
    shadow_settings: Settings, monitor: RunningLoop
) -> None:
    settings = shadow_settings
    stream = inflated(LATER, 4.0)  # the market moved: fees four times what version 1 learned
    registry, challenger = registered(settings, PAST + inflated(history(600, seed=12), 4.0), "better")
    shadowed = registry.shadow(challenger, reason="passed the holdout gate (test)")
    assert shadowed.version == "2" and shadowed.champion_version == "1" and shadowed.replaces_version is None
    with collecting(settings) as results, running_workers(settings, "w1") as (worker,):
        requests = replay(settings, stream)
        promoted = verdict(settings, ModelPromoted, monitor, worker)
        assert isinstance(promoted, ModelPromoted) and promoted.version == "2", worker.log_tail()
        assert promoted.source == "shadow-judge" and promoted.previous_version == "1"
        evidence = promoted.evidence
        assert isinstance(evidence, ShadowEvidence) and evidence.pairs >= 40
        assert evidence.champion_version == "1"
        assert evidence.challenger_mean_error < evidence.champion_mean_error
        assert evidence.p_value is not None and evidence.p_value < settings.shadow_alpha
        assert evidence.interval_high is not None and evidence.interval_high < 0
        # Every worker swaps: requests taken after it serves 2 are answered by 2.
        assert wait_until(lambda: serving_version(worker) == 2, TIMEOUT), worker.log_tail()
        after = probe(30, "after")
        publish(settings, PREDICTIONS_REQUESTS, after)
        assert results.wait_until(lambda _: answered_once(results, requests + after), TIMEOUT), (
            worker.log_tail()
        )
        seen = dict(results.results)
    # One user-visible result per request, never the shadow's: version 2 answers on
    # predictions.results only after the promotion, and then only as the champion.
    assert all(len(seen[r.request_id]) == 1 for r in requests + after)
    assert {seen[r.request_id][0].model_version for r in after} == {"2"}
    in_shadow = [r for r in shadow_results(settings, 40) if r.model_version == "2"]
    assert len(in_shadow) >= 40 and {r.request_id for r in in_shadow} <= {r.request_id for r in requests}
    before = [seen[r.request_id][0] for r in requests if r.request_id in {s.request_id for s in in_shadow}]
    assert {r.model_version for r in before} == {"1"}  # scored in shadow while 1 served
    assert champion_version(registry.client, settings.model_name) == "2"
    # Then the old champion guarded the promotion; it may have ended (kept) by now, never rolled back.
    assert monitor.loop.shadow is not None
    taken = [(v.pointer.role, v.pointer.version, v.decision.verdict) for v in monitor.loop.shadow.decided]
    assert taken[0] == ("challenger", "2", "promote") and taken[1:] in ([], [("guard", "1", "keep")]), taken
    guard = registry.current_shadow()
    assert guard is None or (guard.role, guard.version, guard.champion) == ("guard", "1", "2")


def test_a_worse_challenger_is_rejected_on_its_evidence_and_the_champion_keeps_serving(
    shadow_settings: Settings, monitor: RunningLoop
) -> None:
    settings = shadow_settings
    registry, challenger = registered(settings, inflated(PAST, 4.0), "worse")  # learned the wrong market
    registry.shadow(challenger, reason="passed the holdout gate (test)")
    with collecting(settings) as results, running_workers(settings, "w1") as (worker,):
        requests = replay(settings, LATER)
        rejected = verdict(settings, ModelRejected, monitor, worker)
        assert isinstance(rejected, ModelRejected) and rejected.version == "2", worker.log_tail()
        evidence = rejected.evidence
        assert isinstance(evidence, ShadowEvidence) and evidence.pairs >= 40
        assert evidence.challenger_mean_error > evidence.champion_mean_error
        assert results.wait_until(lambda _: answered_once(results, requests), TIMEOUT), worker.log_tail()
        seen = dict(results.results)
    assert all(len(seen[r.request_id]) == 1 for r in requests)
    assert {seen[r.request_id][0].model_version for r in requests} == {"1"}
    assert registry.current_shadow() is None
    assert (
        ModelCache(redis_client(settings), prefix=settings.topic_prefix).current_version(settings.model_name)
        == "1"
    )
    assert not any(
        isinstance(e, ModelPromoted) and e.version == "2" for e in lifecycle_until(settings, ModelRejected)
    )


def test_a_newer_challenger_replaces_an_undecided_one_and_says_so(shadow_settings: Settings) -> None:
    registry, first = registered(shadow_settings, PAST[:600], "first")
    registry.shadow(first, reason="first challenger")
    second = registry.register(first.artifact, run_name="second", params={"trigger": "test"})
    event = registry.shadow(second, reason="second challenger")
    assert isinstance(event, ModelShadowed) and event.replaces_version == first.version
    pointer = registry.current_shadow()
    assert pointer is not None and pointer.version == second.version and pointer.role == "challenger"


def test_a_bad_model_promoted_by_hand_is_rolled_back_within_the_guardrail_window(
    shadow_settings: Settings, monitor: RunningLoop
) -> None:
    settings = shadow_settings
    registry, bad = registered(settings, inflated(PAST, 4.0), "bad")
    with collecting(settings) as results, running_workers(settings, "w1") as (worker,):
        registry.promote_existing(bad.version, reason="promoted by hand (test)")
        assert wait_until(lambda: serving_version(worker) == 2, TIMEOUT), worker.log_tail()
        requests = replay(settings, LATER)
        rolled = verdict(settings, ModelRolledBack, monitor, worker)
        assert isinstance(rolled, ModelRolledBack), worker.log_tail()
        assert (rolled.from_version, rolled.to_version) == ("2", "1")
        evidence = rolled.evidence
        assert (
            evidence is not None
            and settings.shadow_min_pairs <= evidence.pairs <= settings.shadow_guardrail_window
        )
        assert evidence.challenger_mean_error > evidence.champion_mean_error  # the new one did worse
        assert wait_until(lambda: serving_version(worker) == 1, TIMEOUT), worker.log_tail()
        after = probe(30, "after")
        publish(settings, PREDICTIONS_REQUESTS, after)
        assert results.wait_until(lambda _: answered_once(results, requests + after), TIMEOUT), (
            worker.log_tail()
        )
        seen = dict(results.results)
    assert all(len(seen[r.request_id]) == 1 for r in requests + after)  # none lost, none twice
    assert {seen[r.request_id][0].model_version for r in after} == {"1"}
    assert champion_version(registry.client, settings.model_name) == "1"
    assert registry.current_shadow() is None


def test_a_challenger_whose_labels_stop_is_rejected_at_its_maximum_time_with_the_evidence_so_far(
    shadow_settings: Settings, monitor: RunningLoop
) -> None:
    settings = shadow_settings
    registry, challenger = registered(settings, PAST[:600], "quiet")
    registry.shadow(challenger, reason="passed the holdout gate (test)")
    decider = monitor.loop.shadow
    assert decider is not None
    few = LATER[:15]  # then the stream goes quiet: fewer pairs than a verdict on evidence needs
    paid = sum(t.fee_eur_m > 0 for t in few)
    assert 0 < paid < settings.shadow_min_pairs
    with running_workers(settings, "w1") as (worker,):
        replay(settings, few)
        monitor.wait(
            lambda: decider.pointer is not None and decider.pairs.count(decider.pointer.session) == paid,
            "every labelled pair counted",
        )
        # The worker counted what it scored in shadow, on the /metrics Prometheus scrapes.
        figures = scrape(metrics_url(worker))
        assert sample(figures, "mlops_fc_worker_shadow_model_version") == 2
        assert (sample(figures, "mlops_fc_worker_shadow_predictions_total") or 0) >= paid
        assert sample(figures, "mlops_fc_worker_shadow_errors_total") == 0
        # Every message of the stream is handled: from now on only the monitor's idle timer
        # can take the verdict. Its clock jumps past the maximum time in shadow.
        decider.clock = lambda: time.time() + settings.shadow_max_age_s
        rejected = verdict(settings, ModelRejected, monitor, worker)
    assert isinstance(rejected, ModelRejected) and rejected.version == "2"
    assert "in shadow" in rejected.reason
    evidence = rejected.evidence
    assert isinstance(evidence, ShadowEvidence) and evidence.pairs == paid
    assert evidence.age_s >= settings.shadow_max_age_s
    assert registry.current_shadow() is None
    assert champion_version(registry.client, settings.model_name) == "1"


# A monitor that dies in the middle of a verdict: the real Registry behind the shadow judge's
# outbox (modelstore/verdict_outbox.py) in a child process, ended with os._exit at that point
# (no clean-up runs). Each case names the step the process never finished.
PROMOTE = "verdicts.promote_existing(version, REASON, evidence=evidence)\n"
REJECT = "verdicts.reject(version, REASON, evidence=evidence)\n"
DIES_AT = {
    "promotion, before the alias": "modelstore.lifecycle.set_champion = die\n" + PROMOTE,  # Redis says 2
    "promotion, before the slot": "registry._guard = die\n" + PROMOTE,
    "promotion, before the event": "registry.emit = die\n" + PROMOTE,
    "promotion, after the event": "outbox.clear = die\n" + PROMOTE,
    "rejection, before the event": "registry.emit = die\n" + REJECT,
    "rejection, after the event": REJECT + "die()\n",  # the slot is never emptied
}
CHILD = """
import os, sys
from functools import partial
import modelstore.lifecycle
from modelstore.lifecycle import Registry
from modelstore.lifecycle_log import lifecycle_holds
from modelstore.verdict_outbox import OutboxVerdicts, VerdictOutbox
from schemas.evidence import ShadowEvidence
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
settings = Settings()
registry = Registry.connect(settings, make_producer(settings), source="shadow-judge")
outbox = VerdictOutbox(redis_client(settings), settings.topic_prefix, settings.model_name)
verdicts = OutboxVerdicts(registry, outbox, partial(lifecycle_holds, settings))
version, evidence = sys.argv[1], ShadowEvidence.model_validate_json(sys.argv[2])
REASON = "shadow verdict (test)"
def die(*_args, **_kwargs):
    os._exit(9)
"""
EVIDENCE = ShadowEvidence(
    method="wilcoxon", pairs=60, champion_version="1", champion_mean_error=0.6, challenger_mean_error=0.4,
    mean_difference=-0.2, p_value=0.001, interval_low=-0.3, interval_high=-0.1, alpha=0.05, age_s=30.0,
)  # fmt: skip


def die_at(settings: Settings, step: str, version: str) -> None:
    child = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", CHILD + DIES_AT[step], version, EVIDENCE.model_dump_json()],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert child.returncode == 9, child.stderr[-2000:]


def judged(settings: Settings) -> list[Event]:
    """The shadow judge's verdicts on models.lifecycle, all of them."""
    return [
        e for e in all_events(settings, MODELS_LIFECYCLE)
        if e.source == SHADOW_SOURCE and isinstance(e, ModelPromoted | ModelRejected | ModelRolledBack)
    ]  # fmt: skip


@pytest.mark.parametrize("step", sorted(DIES_AT))
def test_a_monitor_started_after_a_crash_mid_verdict_finishes_it_and_announces_it_once(
    shadow_settings: Settings, step: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = shadow_settings
    promoted = step.startswith("promotion")
    registry, challenger = registered(settings, PAST[:600], "crash")
    registry.shadow(challenger, reason="passed the holdout gate (test)")
    die_at(settings, step, challenger.version)
    cache = ModelCache(redis_client(settings), prefix=settings.topic_prefix)
    # What the workers follow besides the event: the Redis pointer (and the slot) on a timer.
    # A promotion cut short already points them at 2; only the announcement is missing.
    assert cache.current_version(settings.model_name) == ("2" if promoted else "1")
    with caplog.at_level(logging.WARNING, logger="modelstore"):
        loop = build_loop(settings)  # what `mlops-fc monitor` does first
    try:
        pointer = registry.current_shadow()
        slot = None if pointer is None else (pointer.role, pointer.version, pointer.champion)
        assert slot == (("guard", "1", "2") if promoted else None)
        assert loop.shadow is not None and loop.shadow.pointer == pointer
        assert champion_version(registry.client, settings.model_name) == ("2" if promoted else "1")
        verdicts = judged(settings)
        assert [(type(e), getattr(e, "version", None)) for e in verdicts] == [
            (ModelPromoted if promoted else ModelRejected, "2")
        ], verdicts  # once: finished after the crash, or the one sent before it
        event = verdicts[0]
        assert isinstance(event, ModelPromoted | ModelRejected) and event.evidence == EVIDENCE
        if isinstance(event, ModelPromoted):
            assert event.previous_version == "1" and event.artifact_key == cache.key(settings.model_name, "2")
        said = " ".join(r.getMessage() for r in caplog.records)
        assert (
            "announced before the crash" if "after the event" in step else "finished and announced now"
        ) in said
        assert VerdictOutbox(redis_client(settings), settings.topic_prefix, settings.model_name).get() is None
    finally:
        loop.consumer.close()
    restarted = build_loop(settings)  # a second start finds nothing left to do
    restarted.consumer.close()
    assert len(judged(settings)) == 1


def test_the_api_serves_the_shadow_slot_with_the_pairs_the_monitor_counted(shadow_settings: Settings) -> None:
    settings = shadow_settings
    models = MlflowModels(settings)  # the facade's registry view
    assert models.shadow() is None
    registry, challenger = registered(settings, PAST[:600], "shown")
    registry.shadow(challenger, reason="passed the holdout gate (test)")
    pointer = registry.current_shadow()
    assert pointer is not None
    pairs = RedisPairs(redis_client(settings), pairs_prefix(settings.topic_prefix, settings.model_name))
    for i in range(3):  # what the monitor writes as labelled pairs complete
        for part in ("champion", "shadow", "label"):
            pairs.add(pointer.session, f"t-{i}", part, 1.0 + i)  # type: ignore[arg-type]
    pairs.add(pointer.session, "t-waiting", "label", 1.0)  # not a pair yet
    shown = models.shadow()
    assert shown is not None
    assert (shown["version"], shown["role"], shown["champion"], shown["pairs"]) == ("2", "challenger", "1", 3)
    assert datetime.fromisoformat(shown["since"]).timestamp() == pytest.approx(pointer.since, abs=1e-3)
