"""Faust's read-offset filter is off for the request topic and untouched for the others."""

from __future__ import annotations

from faust.types import TP

from inference.faust_tuning import _ReadOffsetsExcept

REQUESTS, INGEST = TP("requests", 0), TP("transfers", 0)


def test_the_request_topic_never_has_a_read_offset_so_nothing_is_dropped_or_gap_acked() -> None:
    offsets = _ReadOffsetsExcept({"requests"})
    offsets[REQUESTS] = 749
    offsets.update({REQUESTS: 45, INGEST: 12})  # what Faust does when it seeks to committed
    assert offsets[REQUESTS] is None
    assert offsets[INGEST] == 12
    assert offsets[TP("transfers", 1)] is None  # still a defaultdict for the others
    offsets[INGEST] = 13
    assert offsets[INGEST] == 13
    assert offsets.pop(INGEST) == 13
