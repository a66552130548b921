"""The worker's shadow step: the shadow's answers go to their own topic and never cost a result."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from features.vector import FEATURE_NAMES
from inference.metrics import WorkerMetrics
from inference.scoring import Pending, feature_matrix, score_batch
from inference.shadow_model import ShadowHolder
from modelstore.memory import InMemoryModelStore
from modelstore.shadow import DictStore, ShadowPointer, ShadowSlot
from modelstore.signing import sign_artifact
from schemas.codec import decode, encode
from schemas.predictions import PredictionRequest, PredictionResult
from tests.unit.test_drift_monitor import MODEL, drift_artifact

KEY = b"unit-key"


def pending(count: int) -> list[Pending]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(count):
        request = PredictionRequest(
            source="test",
            request_id=f"r{i}",
            player_id=f"p{i}",
            position="Centre-Back",
            from_club="A",
            to_club="B",
            season=2024,
            window="summer",
            requested_at=datetime(2024, 7, 1, tzinfo=UTC),
            transfer_id=f"t{i}",
        )
        out.append(Pending(request, {name: float(rng.uniform(0, 3)) for name in FEATURE_NAMES}, 1.7e9))
    return out


def holder_with(version: str | None) -> ShadowHolder:
    store, slot = InMemoryModelStore(), ShadowSlot(DictStore(), "", MODEL)
    if version is not None:
        store.data[f"model:{MODEL}:{version}"] = sign_artifact(drift_artifact(version), KEY)
        slot.put(ShadowPointer(version, "challenger", "1", 0.0))
    return ShadowHolder(store, slot, MODEL, KEY)


def test_the_shadow_scores_the_champions_matrix_and_answers_on_its_own_topic_keyed_by_request() -> None:
    shadow = holder_with("2")
    assert asyncio.run(shadow.refresh()) and shadow.version == "2"
    champion = drift_artifact("1")
    batch = pending(5)
    matrix = feature_matrix(batch)
    champion_results = score_batch(champion, MODEL, batch, 0.0, 0.0, matrix=matrix)
    out = shadow.step(champion, batch, matrix, 0.0, "predictions.shadow", "worker")
    assert [topic for topic, *_ in out] == ["predictions.shadow"] * 5
    results = [decode(value, headers, expected=PredictionResult) for _, _, value, headers in out]
    assert [key for _, key, _, _ in out] == [r.request_id.encode() for r in results]
    # the one-pass encoder writes byte for byte what the codec writes
    assert [(k, v, list(h)) for _, k, v, h in out] == [
        (k, v, list(h)) for k, v, h in (encode(r, key=r.request_id) for r in results)
    ]
    assert {r.model_version for r in results} == {"2"} and {r.model_version for r in champion_results} == {
        "1"
    }
    assert [r.request_id for r in results] == [r.request_id for r in champion_results]


def test_no_shadow_the_champion_itself_or_a_failing_shadow_gives_nothing() -> None:
    batch = pending(3)
    matrix = feature_matrix(batch)
    empty = holder_with(None)
    assert (
        not asyncio.run(empty.refresh()) and empty.step(drift_artifact("1"), batch, matrix, 0, "s", "w") == []
    )
    same = holder_with("1")
    asyncio.run(same.refresh())
    assert same.step(drift_artifact("1"), batch, matrix, 0, "s", "w") == []  # a swap in progress
    broken = holder_with("2")
    asyncio.run(broken.refresh())
    unscorable = np.zeros((3, 1))  # whatever makes the shadow's predict raise
    assert broken.step(drift_artifact("1"), batch, unscorable, 0, "s", "w") == [] and broken.failures == 1


def test_an_emptied_slot_drops_the_shadow() -> None:
    shadow = holder_with("2")
    asyncio.run(shadow.refresh())
    assert isinstance(shadow.slot, ShadowSlot)
    shadow.slot.clear()
    assert asyncio.run(shadow.refresh()) and shadow.current is None


def test_a_tampered_shadow_blob_is_refused() -> None:
    shadow = holder_with("2")
    assert isinstance(shadow.store, InMemoryModelStore)
    key = f"model:{MODEL}:2"
    shadow.store.data[key] = shadow.store.data[key][:-1] + bytes([shadow.store.data[key][-1] ^ 1])
    assert not asyncio.run(shadow.refresh()) and shadow.current is None


def test_the_worker_metrics_count_shadow_predictions_and_errors_and_show_the_shadow_version() -> None:
    metrics = WorkerMetrics("unit")
    shadow = holder_with("2")
    metrics.model.follow_shadow(shadow)

    def figures() -> dict[str, float]:
        text = generate_latest(metrics.registry).decode()
        return {
            s.name: s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name.startswith("mlops_fc_worker_shadow_")
        }

    assert figures() == {
        "mlops_fc_worker_shadow_model_version": 0.0,  # not loaded yet
        "mlops_fc_worker_shadow_predictions_total": 0.0,
        "mlops_fc_worker_shadow_errors_total": 0.0,
    }
    asyncio.run(shadow.refresh())
    batch = pending(4)
    assert len(shadow.step(drift_artifact("1"), batch, feature_matrix(batch), 0, "s", "w")) == 4
    assert shadow.step(drift_artifact("1"), batch, np.zeros((4, 1)), 0, "s", "w") == []  # fails
    assert figures() == {
        "mlops_fc_worker_shadow_model_version": 2.0,
        "mlops_fc_worker_shadow_predictions_total": 4.0,
        "mlops_fc_worker_shadow_errors_total": 1.0,
    }
