"""A challenger in the shadow slot for the bench, and the wait for a worker to take it or drop it.

bench/inference.py measures the worker with and without a model in shadow in the same run:
a second model is trained on another history, registered and shadowed as the retrainer
shadows a challenger (Registry.shadow: ModelShadowed on the lifecycle topic, which the
worker follows), and the slot is emptied afterwards so the later phases run as before.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from features.training_set import build_training_set
from modelstore.lifecycle import Registry
from modelstore.shadow import ShadowPointer
from retrainer.training import train_model
from schemas.records import TransferCompleted
from stack.kafka_clients import make_producer
from stack.settings import Settings

LOADED, DROPPED = "in shadow (", "no model in shadow any more"


def put_in_shadow(settings: Settings, transfers: Sequence[TransferCompleted]) -> ShadowPointer:
    """Train on ``transfers``, register and shadow the model; the slot's pointer."""
    artifact = train_model(
        build_training_set(transfers), settings.model_name, tags={"trigger": "bench-shadow"}
    )
    registry = Registry.connect(settings, make_producer(settings), source="bench")
    registered = registry.register(artifact, run_name="bench-shadow", params={"trigger": "bench-shadow"})
    registry.shadow(registered, reason="bench: the cost of scoring in shadow")
    pointer = registry.current_shadow()
    if pointer is None:
        raise RuntimeError("the shadow slot is empty right after Registry.shadow")
    return pointer


def end_shadow(settings: Settings, pointer: ShadowPointer) -> None:
    Registry.connect(settings, make_producer(settings), source="bench").end_shadow(pointer)


def wait_for_log(log_path: Path, text: str, after: int, timeout_s: float) -> bool:
    """Whether ``text`` shows up in the worker's log past byte ``after`` within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with log_path.open("rb") as log:
            log.seek(after)
            if text.encode() in log.read():
                return True
        time.sleep(0.2)  # noqa: sleep-ok - the worker says so only in its log file
    return False
