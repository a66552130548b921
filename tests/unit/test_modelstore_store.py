"""The ModelStore port, run against the in-memory store; Redis runs the same contract."""

from __future__ import annotations

import pytest

from modelstore import (
    ArtifactMismatchError,
    ArtifactNotFoundError,
    ArtifactSignatureError,
    InMemoryModelStore,
    ModelArtifact,
    ModelStore,
    load_current,
    load_version,
    sign_artifact,
)
from tests.unit.test_modelstore_artifact import make_artifact, player_rows

KEY = "store-test-key"


@pytest.fixture(scope="module")
def artifacts() -> dict[str, ModelArtifact]:
    first = make_artifact(version="1")
    return {"1": first, "2": first.with_version("2")}


def check_store_contract(store: ModelStore, name: str, artifacts: dict[str, ModelArtifact]) -> None:
    """What every ModelStore must do; shared with the Redis integration test."""
    assert store.current_version(name) is None
    assert store.fetch_current(name) is None
    assert load_current(store, name, KEY) is None
    with pytest.raises(ArtifactNotFoundError):
        store.activate(name, "1")

    blobs = {version: sign_artifact(artifacts[version], KEY) for version in ("1", "2")}
    key_one = store.publish(name, blobs["1"], "1")
    assert key_one.endswith(f"model:{name}:1")
    assert store.fetch_current(name) == ("1", blobs["1"])
    store.publish(name, blobs["2"], "2")
    assert store.current_version(name) == "2"
    assert store.fetch(name, "1") == blobs["1"]
    assert store.fetch(name, "9") is None

    rows = player_rows(20)
    loaded = load_current(store, name, KEY)
    assert loaded is not None and loaded.version == "2"
    assert (loaded.predict(rows) == artifacts["2"].predict(rows)).all()

    assert store.activate(name, "1") == key_one  # rollback
    assert store.current_version(name) == "1"
    assert load_version(store, name, "2", KEY).version == "2"
    with pytest.raises(ArtifactNotFoundError):
        load_version(store, name, "9", KEY)


def test_in_memory_store_honours_the_contract(artifacts: dict[str, ModelArtifact]) -> None:
    check_store_contract(InMemoryModelStore(prefix="t."), "transfer-fee", artifacts)


def test_tampered_blob_in_store_is_refused(artifacts: dict[str, ModelArtifact]) -> None:
    store = InMemoryModelStore()
    key = store.publish("transfer-fee", sign_artifact(artifacts["1"], KEY), "1")
    tampered = bytearray(store.data[key])
    tampered[-100] ^= 0x10
    store.data[key] = bytes(tampered)
    with pytest.raises(ArtifactSignatureError):
        load_current(store, "transfer-fee", KEY)


def test_blob_under_another_version_is_refused(artifacts: dict[str, ModelArtifact]) -> None:
    # A genuine v1 blob replayed as v2 must not serve as v2.
    store = InMemoryModelStore()
    store.publish("transfer-fee", sign_artifact(artifacts["1"], KEY), "2")
    with pytest.raises(ArtifactMismatchError):
        load_current(store, "transfer-fee", KEY)
    with pytest.raises(ArtifactMismatchError):
        load_version(store, "transfer-fee", "2", KEY)


def test_announced_digest_is_checked_on_load_version(artifacts: dict[str, ModelArtifact]) -> None:
    store = InMemoryModelStore()
    store.publish("transfer-fee", sign_artifact(artifacts["1"], KEY), "1")
    with pytest.raises(ArtifactSignatureError):
        load_version(store, "transfer-fee", "1", KEY, expected_sha256="f" * 64)
