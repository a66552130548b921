"""Model following: a promotion or rollback of the served model lets refused blobs be tried again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from inference.model_following import ModelFollower
from inference.model_holder import ModelHolder
from modelstore.memory import InMemoryModelStore
from schemas.codec import encode
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelRolledBack

SHA = "0" * 64


@dataclass
class Record:
    value: bytes
    headers: Any


def record(event: Any) -> Record:
    _, value, headers = encode(event)
    return Record(value, headers)


@pytest.fixture
def holder() -> ModelHolder:
    holder = ModelHolder(InMemoryModelStore(), "transfer-fee", b"key")
    holder._refused_blobs.add(("1", SHA))
    return holder


def follower(holder: ModelHolder) -> ModelFollower:
    return ModelFollower(holder, consumer=lambda: None, topic="models.lifecycle")  # type: ignore[arg-type, return-value]


def promoted(model: str = "transfer-fee") -> ModelPromoted:
    return ModelPromoted(
        source="api", model_name=model, version="1", artifact_key="k", artifact_sha256=SHA, reason="manual"
    )


def test_a_promotion_of_the_served_model_clears_past_refusals(holder: ModelHolder) -> None:
    follower(holder)._reconsider_on_new_serving([record(promoted())])  # type: ignore[list-item]
    assert holder._refused_blobs == set()


def test_a_rollback_clears_them_too(holder: ModelHolder) -> None:
    rollback = ModelRolledBack(
        source="api",
        model_name="transfer-fee",
        from_version="2",
        to_version="1",
        artifact_key="k",
        artifact_sha256=SHA,
        reason="manual",
    )
    follower(holder)._reconsider_on_new_serving([record(rollback)])  # type: ignore[list-item]
    assert holder._refused_blobs == set()


def test_other_models_rejections_and_garbage_leave_refusals_alone(holder: ModelHolder) -> None:
    rejected = ModelRejected(
        source="retrainer",
        model_name="transfer-fee",
        version="3",
        reason="worse",
        challenger_metrics={},
        champion_metrics={},
    )
    records = [record(promoted("another-model")), record(rejected), Record(b"{oops", [])]
    follower(holder)._reconsider_on_new_serving(records)  # type: ignore[arg-type]
    assert holder._refused_blobs == {("1", SHA)}


class _Order:
    """A champion and a shadow holder that note the order in which they are refreshed."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.current: object | None = None

    async def refresh(self) -> bool:  # the champion
        self.calls.append("champion")
        self.current = object()
        return True


class _Shadow:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def refresh(self) -> bool:
        self.calls.append("shadow")
        return False


def test_on_start_the_shadow_is_loaded_before_the_champion_then_after_it() -> None:
    champion = _Order()
    models = ModelFollower(
        champion,  # type: ignore[arg-type]
        consumer=lambda: None,  # type: ignore[arg-type, return-value]
        topic="models.lifecycle",
        shadow=_Shadow(champion.calls),  # type: ignore[arg-type]
    )
    asyncio.run(models.refresh())  # requests wait for the champion: the shadow must be there first
    asyncio.run(models.refresh())  # on a promotion the champion moves first
    assert champion.calls == ["shadow", "champion", "champion", "shadow"]
