"""What the worker's own steps cost per request, without Faust, Kafka or the event loop.

The same model the worker serves and the same requests it was sent, cut into batches of the
worker's mean batch size, go through the worker's own functions in this process, each timed
on this thread's CPU clock (time.thread_time: the bench's collector threads do not count):

    decode   schemas.codec.decode of each request (pydantic validation inside)
    predict  the model's predict on the batch's matrix (treelite, one thread)
    result   score_batch minus its predict: one PredictionResult per request
    encode   inference.result_codec.encode_results (msgspec, one pass)

The feature vectors are the offline training-set rows of the history (the retrainer's, which
the served vectors equal), cycled over the requests: predict walks the same trees the same
way for any rows, and building the vectors (state reads) is left out, so the sum is a lower
bound of what the worker must spend a request beside Faust's own cost. bench/inference.py
sets it against the Faust floor: (floor + this) / floor is the lowest worker / floor CPU
ratio that removing every other cost of ours could reach.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from bench.harness import Encoded
from features.training_set import build_training_set
from features.vector import FEATURE_NAMES
from inference.model_holder import load_servable
from inference.result_codec import encode_results
from inference.scoring import Pending, score_batch
from modelstore.lifecycle import Registry
from schemas.codec import decode
from schemas.predictions import PredictionRequest
from schemas.records import TransferCompleted
from stack.kafka_clients import make_producer
from stack.settings import Settings

PARTS = ("decode", "predict", "result", "encode")


def ours_alone(
    settings: Settings,
    version: str,
    requests: Sequence[Encoded],
    transfers: Sequence[TransferCompleted],
    batch_size: int,
    rounds: int = 3,
) -> dict[str, float]:
    """CPU microseconds per request of each of our steps (and their total), best of ``rounds``."""
    registry = Registry.connect(settings, make_producer(settings), source="bench")
    model = load_servable(registry.verified_blob(version), version, registry.signing_key, "bench")
    frame = build_training_set(transfers)
    rows = frame[list(FEATURE_NAMES)].to_numpy(dtype=np.float64)
    vectors = [
        dict(zip(FEATURE_NAMES, map(float, rows[i % len(rows)]), strict=True)) for i in range(len(requests))
    ]
    batch_size = max(1, batch_size)
    best: dict[str, float] | None = None
    clock = time.thread_time
    for _ in range(rounds):
        spent = dict.fromkeys(PARTS, 0.0)
        for start in range(0, len(requests), batch_size):
            t0 = clock()
            decoded = [
                decode(value, headers, expected=PredictionRequest)
                for _, _, value, headers, _ in requests[start : start + batch_size]
            ]
            t1 = clock()
            pending = [Pending(r, vectors[start + i], 0.0) for i, r in enumerate(decoded)]
            matrix = np.array([list(p.features.values()) for p in pending], dtype=np.float64)
            t2 = clock()
            model.predict(matrix)
            t3 = clock()
            results = score_batch(model, settings.model_name, pending, 0.0, 0.0, matrix=matrix)
            t4 = clock()
            encode_results("results", results)
            t5 = clock()
            spent["decode"] += t1 - t0
            spent["predict"] += t3 - t2
            spent["result"] += (t4 - t3) - (t3 - t2)  # score_batch predicts again inside
            spent["encode"] += t5 - t4
        if best is None or sum(spent.values()) < sum(best.values()):
            best = spent
    assert best is not None
    per = {part: best[part] * 1e6 / max(len(requests), 1) for part in PARTS}
    per["total"] = sum(per.values())
    # which predict was timed: treelite's compiled trees run on this one thread (nthread=1)
    per["compiled_trees"] = float(getattr(model, "_compiled", None) is not None)
    return per
