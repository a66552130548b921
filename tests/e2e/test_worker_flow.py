"""The inference worker on the real stack: one result per request, hot swap, tampering, crashes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from devstack.services import Service
from features.store import InMemoryFeatureStore
from modelstore.lifecycle import Registry
from modelstore.redis_cache import ModelCache
from retrainer.initial import train_initial
from schemas.lifecycle import ModelPromoted
from schemas.predictions import PredictionRequest, PredictionResult, request_from_transfer
from schemas.topics import MODELS_LIFECYCLE, PREDICTIONS_REQUESTS, TRANSFERS_COMPLETED
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.e2e.conftest import HISTORY
from tests.flow_helpers import (
    collecting,
    explain_missing,
    group_offsets,
    history,
    publish,
    publish_in_order,
    running_workers,
    serving_version,
)

RESULT_TIMEOUT = 180.0
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def requests(count: int, prefix: str, players: int = 40) -> list[PredictionRequest]:
    """Questions about known players and clubs, asked after the whole history."""
    return [
        PredictionRequest(
            source="test",
            request_id=f"{prefix}-{i:05d}",
            player_id=f"p7-{i % players}",
            position="Centre-Back",
            from_club=f"Club {i % 24:02d}",
            to_club=f"Club {(i + 5) % 24:02d}",
            season=2029,
            window="winter",
            requested_at=LATER + timedelta(seconds=i),
        )
        for i in range(count)
    ]


def worker_group(settings: Settings) -> str:
    return f"{settings.topic_prefix}{settings.worker_app_id}"


def comparable(result: PredictionResult) -> dict[str, object]:
    """What must be identical between two results for one request (not ids or timings)."""
    return result.model_dump(exclude={"event_id", "occurred_at", "timings", "source", "trace_id"})


def test_replay_gets_one_result_per_request_with_the_offline_features(served: Settings) -> None:
    # The replay as the CSV ingester sends it: each paid transfer's request just before its fee.
    later = HISTORY[900:]
    replay = {t.transfer_id: request_from_transfer(t) for t in later if t.fee_eur_m > 0}
    began = time.time()
    with collecting(served) as results, running_workers(served, "w1") as (worker,):
        publish_in_order(
            served,
            (
                item
                for t in later
                for item in (
                    *([(PREDICTIONS_REQUESTS, replay[t.transfer_id])] if t.transfer_id in replay else []),
                    (TRANSFERS_COMPLETED, t),
                )
            ),
        )
        missing = results.wait_for_ids([r.request_id for r in replay.values()], RESULT_TIMEOUT)
        assert not missing, f"{len(missing)} requests unanswered\n{worker.log_tail()}"
    assert not {rid: rs for rid, rs in results.results.items() if len(rs) > 1}
    # The vector served online is the one the retrainer's replay computes offline.
    offline = InMemoryFeatureStore()
    expected: dict[str, dict[str, float]] = {}
    for transfer in HISTORY:
        if transfer.transfer_id in replay:
            expected[replay[transfer.transfer_id].request_id] = offline.vector_for(
                replay[transfer.transfer_id]
            )
        offline.apply(transfer)
    for request in replay.values():
        (result,) = results.results[request.request_id]
        assert result.status == "ok" and result.model_version == "1"
        assert result.features == pytest.approx(expected[request.request_id]), request.request_id
        # Timings are real durations: none can exceed the time the whole test took.
        assert 0 <= result.timings["total"] <= (time.time() - began) * 1000


def test_swap_mid_stream_loses_nothing_and_versions_follow_the_swap(served: Settings) -> None:
    # One player: one partition, so the results' order is the requests' order.
    stream = requests(3000, "swap", players=1)
    sent = 0
    with collecting(served) as results, running_workers(served, "w1") as (worker,):
        publish(served, PREDICTIONS_REQUESTS, stream[:500])
        sent = 500
        assert not results.wait_for_ids([r.request_id for r in stream[:500]], RESULT_TIMEOUT), (
            worker.log_tail()
        )
        # Train and promote version 2 while requests keep flowing.
        flowing = threading.Thread(target=publish, args=(served, PREDICTIONS_REQUESTS, stream[500:1500]))
        flowing.start()
        assert train_initial(served, transfers=history(1200, seed=8)).version == "2"
        flowing.join()
        sent = 1500
        # Keep asking, 100 at a time, until an answer comes from version 2.
        while sent < len(stream):
            chunk = stream[sent : sent + 100]
            publish(served, PREDICTIONS_REQUESTS, chunk)
            sent += len(chunk)
            assert not results.wait_for_ids([r.request_id for r in chunk], RESULT_TIMEOUT), worker.log_tail()
            if results.results[chunk[-1].request_id][0].model_version == "2":
                break
        missing = results.wait_for_ids([r.request_id for r in stream[:sent]], RESULT_TIMEOUT)
        assert not missing, worker.log_tail()
    answered = [results.results[r.request_id] for r in stream[:sent]]
    assert all(len(copies) == 1 for copies in answered)
    served_by = [copies[0].model_version for copies in answered]
    assert served_by[-1] == "2", "the promoted model never served"
    # Versions change once, from 1 to 2: in-flight batches finished on 1, then all on 2.
    switch = served_by.index("2")
    assert switch > 0
    assert served_by[:switch] == ["1"] * switch and served_by[switch:] == ["2"] * (sent - switch)


def test_tampered_blob_is_refused_and_the_previous_model_keeps_serving(served: Settings) -> None:
    cache = ModelCache(redis_client(served), prefix=served.topic_prefix)
    version, blob = cache.fetch_current(served.model_name)  # type: ignore[misc]
    tampered = bytearray(blob)
    tampered[len(tampered) // 2] ^= 0xFF
    before, after = requests(200, "before"), requests(200, "after")
    with collecting(served) as results, running_workers(served, "w1") as (worker,):
        publish(served, PREDICTIONS_REQUESTS, before)
        assert not results.wait_for_ids([r.request_id for r in before], RESULT_TIMEOUT), worker.log_tail()
        key = cache.publish(served.model_name, bytes(tampered), "99")
        publish(
            served,
            MODELS_LIFECYCLE,
            [
                ModelPromoted(
                    source="attacker",
                    model_name=served.model_name,
                    version="99",
                    previous_version=version,
                    artifact_key=key,
                    artifact_sha256="0" * 64,
                    reason="tampered",
                )
            ],
        )
        publish(served, PREDICTIONS_REQUESTS, after)
        assert not results.wait_for_ids([r.request_id for r in after], RESULT_TIMEOUT), worker.log_tail()
        log = worker.log_tail(400)
    assert {results.results[r.request_id][0].model_version for r in before + after} == {version}
    assert "refus" in log.lower(), log


def test_killed_worker_restarts_and_every_request_gets_a_result(
    served: Settings, record_property: Callable[[str, object], None]
) -> None:
    stream = requests(3000, "kill")
    ids = [r.request_id for r in stream]
    with collecting(served) as results:
        with running_workers(served, "w1") as (worker,):
            publish(served, PREDICTIONS_REQUESTS, stream[:1500])
            assert results.wait_until(lambda rs: len(rs) >= 300, RESULT_TIMEOUT), worker.log_tail()
            worker.kill()
            publish(served, PREDICTIONS_REQUESTS, stream[1500:])
        committed_at_kill = group_offsets(served, PREDICTIONS_REQUESTS, worker_group(served))
        answered_at_kill = len(results.results)
        restarted_at = time.monotonic()
        with running_workers(served, "w1") as (restarted,):
            # Static membership: the restarted w1 takes its partitions back without waiting out
            # the killed member's session. A figure, not a threshold (shared machines vary).
            assert results.wait_until(lambda rs: len(rs) > answered_at_kill, RESULT_TIMEOUT)
            first_answer_s = time.monotonic() - restarted_at
            missing = results.wait_for_ids(ids, RESULT_TIMEOUT)
            assert not missing, (
                f"{explain_missing(served, PREDICTIONS_REQUESTS, missing, worker_group(served))}\n"
                f"committed when the worker was killed: {committed_at_kill}\n{restarted.log_tail()}"
            )
    duplicates = {rid: rs for rid, rs in results.results.items() if len(rs) > 1}
    for rid, copies in duplicates.items():
        first = comparable(copies[0])
        for copy in copies[1:]:
            differs = {k: (v, comparable(copy)[k]) for k, v in first.items() if comparable(copy)[k] != v}
            assert not differs, f"{rid}: a repeated result differs: {differs}"
    # At-least-once: a crash may repeat the batches after the last commit, never lose one.
    record_property("duplicate_results_after_sigkill", len(duplicates))
    record_property("first_answer_after_restart_s", round(first_answer_s, 1))
    print(f"duplicate results after SIGKILL: {len(duplicates)} of {len(ids)} requests")
    print(f"first answer {first_answer_s:.1f}s after starting the restarted worker (process start included)")


def test_two_workers_share_the_load_and_answer_every_request_once(
    served: Settings, record_property: Callable[[str, object], None]
) -> None:
    stream = requests(2000, "pair", players=200)
    with collecting(served) as results, running_workers(served, "w1", "w2") as workers:
        # Warm up until both workers answer: the group has settled, so no rebalance mid-stream.
        for round_ in range(30):
            warmup = requests(100, f"warmup{round_}", players=200)
            publish(served, PREDICTIONS_REQUESTS, warmup)
            assert not results.wait_for_ids([r.request_id for r in warmup], RESULT_TIMEOUT)
            if len({results.results[r.request_id][0].source for r in warmup}) == 2:
                break
        publish(served, PREDICTIONS_REQUESTS, stream)
        missing = results.wait_for_ids([r.request_id for r in stream], RESULT_TIMEOUT)
        assert not missing, "\n".join(w.log_tail() for w in workers)
        # While both share the load: exactly one answer each (taken before the workers stop).
        answered = [list(results.results[r.request_id]) for r in stream]
        logs = "\n".join(w.log_tail(400) for w in workers)
    repeated = {
        copies[0].request_id: [(c.source, str(c.event_id)[:8], c.occurred_at.isoformat()) for c in copies]
        for copies in answered
        if len(copies) > 1
    }
    assert not repeated, f"{len(repeated)} answered more than once, e.g. {list(repeated.items())[:3]}\n{logs}"
    # Stopping one worker rebalances: at-least-once may repeat a few results, never differently.
    for request in stream:
        first, *later = results.results[request.request_id]
        assert all(comparable(copy) == comparable(first) for copy in later), request.request_id
    record_property("repeats_after_scale_down", sum(len(results.results[r.request_id]) > 1 for r in stream))
    assert {copies[0].source for copies in answered} == {"inference-worker/w1", "inference-worker/w2"}
    # Each worker's player state (restored from the changelog on rebalance) is the full history's.
    offline = InMemoryFeatureStore()
    for transfer in HISTORY[:900]:
        offline.apply(transfer)
    for request, (result,) in zip(stream, answered, strict=True):
        assert result.features == pytest.approx(offline.vector_for(request))


def _wait_serving(worker: Service, version: int, timeout: float = RESULT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serving_version(worker) == version:
            return
        time.sleep(0.25)  # noqa: sleep-ok - poll interval, bounded by the deadline
    raise AssertionError(f"the worker never served version {version}: {worker.log_tail()}")


@pytest.mark.faults
def test_a_refused_blob_does_not_poison_a_later_legitimate_promotion(served: Settings) -> None:
    """Issue 14.5: a pointer to a copied blob is refused; promoting the real version later is served."""
    cache = ModelCache(redis_client(served), prefix=served.topic_prefix)
    during, after = requests(50, "refused"), requests(50, "legit")
    with collecting(served) as results, running_workers(served, "w1") as (worker,):
        _wait_serving(worker, 1)
        second = train_initial(served, transfers=history(900, seed=5))  # v2, promoted
        _wait_serving(worker, int(second.version))
        # The attacker copies version 2's blob under version 1 and points `current` at it.
        _, blob_2 = cache.fetch_current(served.model_name)  # type: ignore[misc]
        key = cache.publish(served.model_name, blob_2, "1")
        publish(
            served,
            MODELS_LIFECYCLE,
            [
                ModelPromoted(
                    source="attacker",
                    model_name=served.model_name,
                    version="1",
                    previous_version=second.version,
                    artifact_key=key,
                    artifact_sha256="0" * 64,
                    reason="copied blob",
                )
            ],
        )
        publish(served, PREDICTIONS_REQUESTS, during)
        assert not results.wait_for_ids([r.request_id for r in during], RESULT_TIMEOUT), worker.log_tail()
        # The operator promotes the real version 1 from the registry (verified, then published).
        registry = Registry.connect(served, make_producer(served), source="operator")
        registry.promote_existing("1", reason="roll back to the first model")
        registry.producer.flush(30)
        _wait_serving(worker, 1)
        publish(served, PREDICTIONS_REQUESTS, after)
        assert not results.wait_for_ids([r.request_id for r in after], RESULT_TIMEOUT), worker.log_tail()
        log = worker.log_tail(400)
    assert {results.results[r.request_id][0].model_version for r in during} == {second.version}
    assert {results.results[r.request_id][0].model_version for r in after} == {"1"}
    assert "refus" in log.lower(), log
