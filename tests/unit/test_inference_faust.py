"""The Faust workarounds: read-offset filter, spinner, fetch wait, and the private parts they touch."""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any, cast

import faust
import pytest
from faust.types import TP

from inference.faust import limit_fetch_wait
from inference.faust.private import PRIVATE_ATTRIBUTES, PrivateAttribute
from inference.faust.read_offsets import _ReadOffsetsExcept
from inference.faust.spinnerless import SpinnerlessWorker

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


def _owner(attribute: PrivateAttribute) -> type:
    return cast(type, getattr(importlib.import_module(attribute.module), attribute.owner))


@pytest.mark.parametrize("attribute", PRIVATE_ATTRIBUTES, ids=lambda a: f"{a.owner}.{a.attribute}")
def test_every_private_attribute_the_workarounds_touch_exists(attribute: PrivateAttribute) -> None:
    owner = _owner(attribute)
    if attribute.on_instance:
        # Set in __init__ (or a method) of the class or a base: look for the assignment.
        sources = "".join(
            inspect.getsource(cls)
            for cls in owner.__mro__
            if cls.__module__.split(".")[0] in {"faust", "aiokafka", "mode"}
        )
        assert f"self.{attribute.attribute} " in sources or f"self.{attribute.attribute}:" in sources, (
            attribute
        )
    else:
        assert hasattr(owner, attribute.attribute), attribute


def test_the_attribute_check_can_fail() -> None:
    missing = PrivateAttribute("faust.transport.consumer", "Consumer", "_no_such_thing", False, "-")
    assert not hasattr(_owner(missing), missing.attribute)


def test_a_faust_consumer_long_polls_as_configured() -> None:
    from faust.transport.drivers import aiokafka as faust_aiokafka

    limit_fetch_wait(20)
    thread_class: Any = faust_aiokafka.AIOKafkaConsumerThread
    assert thread_class._mlops_fc_fetch_wait == 20
    assert thread_class._create_worker_consumer.__qualname__.startswith("limit_fetch_wait")
