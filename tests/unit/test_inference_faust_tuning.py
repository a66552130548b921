"""Faust's read-offset filter is off for the request topic and untouched for the others."""

from __future__ import annotations

import logging

import faust
import pytest
from faust.types import TP

from inference.faust_tuning import SpinnerlessWorker, _ReadOffsetsExcept

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


@pytest.mark.parametrize(("worker_class", "debug_built"), [(faust.Worker, True), (SpinnerlessWorker, False)])
def test_the_worker_builds_no_debug_records_at_warn(
    worker_class: type[faust.Worker], debug_built: bool
) -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        worker = worker_class(faust.App("spinner-test"), loglevel="warn", quiet=True)
        worker._setup_logging()
        assert logging.getLogger("aiokafka.conn").isEnabledFor(logging.DEBUG) is debug_built
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
