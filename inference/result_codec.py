"""A batch's results as Kafka messages in one pass, byte for byte what schemas.codec.encode writes.

pydantic's model_dump_json cost ~25 us a result (its 53 feature floats); msgspec writes the
same JSON from the validated model's fields in a few. The two agree on every value a result
holds (strings, None, UUIDs, UTC datetimes, floats) except floats of 1e16 and above, which
msgspec writes as 1e16 where pydantic writes 1e+16: a result holding one goes through the
codec itself. tests/unit/test_inference_result_codec.py checks the bytes against the codec.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import msgspec

from schemas.codec import encode, event_headers
from schemas.predictions import PredictionResult
from stack.async_producer import OutgoingMessage

_JSON = msgspec.json.Encoder()
LARGE = 1e16  # from here on msgspec's exponent has no '+': leave such results to the codec


def encode_results(topic: str, results: Sequence[PredictionResult]) -> list[OutgoingMessage]:
    """One message per result, keyed by its request id, as ``encode(result, key=request_id)``."""
    out: list[OutgoingMessage] = []
    for result in results:
        if _plain(result):
            # a model's __dict__ holds its fields in declaration order, as model_dump_json writes them
            value = _JSON.encode(result.__dict__)
            out.append((topic, result.request_id.encode("utf-8"), value, event_headers(result)))
        else:
            out.append((topic, *encode(result, key=result.request_id)))
    return out


def _plain(result: PredictionResult) -> bool:
    """Whether every float of the result is below LARGE in size (msgspec and pydantic agree)."""
    return (
        _small(result.features.values())
        and _small(result.timings.values())
        and _small([v for v in (result.predicted_fee_eur_m, result.interval_low, result.interval_high) if v])
    )


def _small(values: Collection[float]) -> bool:
    return not values or (max(values) < LARGE and min(values) > -LARGE)
