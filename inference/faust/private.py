"""Every private faust-streaming / aiokafka attribute the worker's workarounds touch.

tests/unit/test_inference_faust.py checks that each still exists in the pinned versions, so
an upgrade that renames one fails there instead of silently undoing a workaround.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrivateAttribute:
    module: str  # where the owner lives
    owner: str  # class name
    attribute: str
    on_instance: bool  # set in __init__ (checked on an instance), else a class attribute
    used_by: str  # our module that relies on it


PRIVATE_ATTRIBUTES: tuple[PrivateAttribute, ...] = (
    PrivateAttribute(
        "faust.transport.drivers.aiokafka",
        "AIOKafkaConsumerThread",
        "_create_worker_consumer",
        False,
        "inference/faust/fetch_wait.py",
    ),
    PrivateAttribute(
        "aiokafka", "AIOKafkaConsumer", "_fetch_max_wait_ms", True, "inference/faust/fetch_wait.py"
    ),
    PrivateAttribute(
        "faust.transport.consumer", "Consumer", "_read_offset", True, "inference/faust/read_offsets.py"
    ),
    PrivateAttribute(
        "faust.transport.consumer",
        "Consumer",
        "_committed_offset",
        True,
        "inference/faust/consumer_calls.py",
    ),
    PrivateAttribute(
        "faust.transport.consumer", "Consumer", "_commit_offsets", False, "inference/faust/consumer_calls.py"
    ),
    PrivateAttribute(
        "faust.transport.consumer", "Consumer", "seek_wait", False, "inference/faust/consumer_calls.py"
    ),
    PrivateAttribute(
        "faust.tables.manager", "TableManager", "recovery", False, "inference/faust/stuck_recovery.py"
    ),
    PrivateAttribute(
        "faust.tables.recovery", "Recovery", "in_recovery", True, "inference/faust/stuck_recovery.py"
    ),
    PrivateAttribute(
        "faust.tables.recovery", "Recovery", "active_offsets", True, "inference/faust/stuck_recovery.py"
    ),
    PrivateAttribute(
        "faust.tables.recovery", "Recovery", "active_highwaters", True, "inference/faust/stuck_recovery.py"
    ),
    PrivateAttribute(
        "faust.worker", "Worker", "on_setup_root_logger", False, "inference/faust/spinnerless.py"
    ),
    PrivateAttribute(
        "aiokafka.consumer.group_coordinator",
        "GroupCoordinator",
        "_maybe_leave_group",
        False,
        "inference/faust/leave_on_stop.py",
    ),
    PrivateAttribute(
        "aiokafka.consumer.group_coordinator",
        "GroupCoordinator",
        "_group_instance_id",
        True,
        "inference/faust/leave_on_stop.py",
    ),
    PrivateAttribute(
        "aiokafka.consumer.group_coordinator",
        "GroupCoordinator",
        "_send_req",
        False,
        "inference/faust/leave_on_stop.py",
    ),
    PrivateAttribute("aiokafka", "AIOKafkaConsumer", "_client", True, "inference/transfers_view.py"),
    PrivateAttribute(
        "aiokafka.client", "AIOKafkaClient", "force_metadata_update", False, "inference/transfers_view.py"
    ),
)
