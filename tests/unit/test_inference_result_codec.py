"""Results encoded in one pass are byte for byte what the codec writes, headers included."""

from __future__ import annotations

import random
import struct
import uuid
from datetime import UTC, datetime

from features.vector import FEATURE_NAMES
from inference.result_codec import LARGE, _plain, encode_results
from schemas.codec import decode, encode
from schemas.predictions import PredictionResult

TOPIC = "predictions.results"


def random_float(rng: random.Random) -> float:
    kind = rng.randrange(4)
    if kind == 0:  # any finite double below LARGE: every negative exponent, tiny and subnormal too
        while True:
            value: float = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
            if value == value and abs(value) < LARGE:
                return value
    if kind == 1:
        return rng.uniform(-20.0, 20.0)
    if kind == 2:
        return float(rng.randrange(0, 4000))
    return round(rng.uniform(0, 100), rng.randrange(7))


def result(rng: random.Random, i: int) -> PredictionResult:
    status = rng.choice(["ok", "ok", "ok", "no_model", "error"])
    fee = rng.uniform(0, 1000) if status == "ok" else None
    low = None if fee is None or rng.random() < 0.3 else fee * rng.random()
    return PredictionResult(
        source=f"inference-worker/w{i % 3}",
        trace_id=str(uuid.UUID(int=rng.getrandbits(128))),
        request_id=f'req-{i}-é"\\\x01\u2028',
        player_id=f"p{i}",
        transfer_id=None if rng.random() < 0.5 else f"t{i}",
        status=status,  # type: ignore[arg-type]
        predicted_fee_eur_m=fee,
        interval_low=low,
        interval_high=None if low is None or fee is None else fee * (1 + rng.random()),
        model_name="transfer-fee",
        model_version="3" if status != "no_model" else None,
        features={name: random_float(rng) for name in FEATURE_NAMES},
        timings={"queued": rng.uniform(0, 500), "scoring": 0.0, "total": float(rng.randrange(1000))},
        error="scoring failed: ValueError('x\\n\ty')" if status == "error" else None,
        occurred_at=datetime(
            2026, 12, 3, 10, 0, rng.randrange(60), rng.choice([0, 1000, 123456]), tzinfo=UTC
        ),
    )


def test_every_message_equals_the_codecs() -> None:
    rng = random.Random(17)
    results = [result(rng, i) for i in range(3000)]
    assert all(_plain(r) for r in results)  # the one-pass path, not the codec's
    messages = encode_results(TOPIC, results)
    assert len(messages) == len(results)
    for r, (topic, key, value, headers) in zip(results, messages, strict=True):
        assert (topic, key, value, headers) == (TOPIC, *encode(r, key=r.request_id))
        assert decode(value, headers, expected=PredictionResult) == r


def test_results_with_huge_floats_take_the_codecs_path_and_still_match() -> None:
    rng = random.Random(3)
    plain = result(rng, 1)
    huge = plain.model_copy(update={"features": {**plain.features, "age": -3.5 * LARGE}})
    assert _plain(plain) and not _plain(huge)
    for r in (plain, huge):
        assert encode_results(TOPIC, [r]) == [(TOPIC, *encode(r, key=r.request_id))]


def test_an_empty_batch_gives_no_messages() -> None:
    assert encode_results(TOPIC, []) == []
