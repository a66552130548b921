"""The model store on real parts: a private redis-server and MLflow on SQLite."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest
import redis
from mlflow import MlflowClient

from modelstore import (
    ArtifactSignatureError,
    ModelArtifact,
    ModelCache,
    blob_sha256,
    load_artifact,
    load_current,
    sign_artifact,
)
from modelstore.mlflow_registry import (
    champion_version,
    download_blob,
    ensure_experiment,
    list_versions,
    log_and_register,
    set_champion,
    tracking_uri_scope,
)
from tests.unit.test_modelstore_artifact import make_artifact, player_rows
from tests.unit.test_modelstore_store import check_store_contract

pytestmark = pytest.mark.integration

KEY = "integration-signing-key"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def _redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A throwaway redis-server on a free port; yields the port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: apt-get install -y redis-server")
    port = _free_port()
    home = tmp_path_factory.mktemp("redis")
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(home)]
    argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 15
    try:
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server on port {port} did not answer PING")
                time.sleep(0.05)  # noqa: sleep-ok - poll interval, bounded by the deadline above
        yield port
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_client(_redis_server: int) -> Iterator[redis.Redis]:
    client = redis.Redis(port=_redis_server)
    yield client
    client.close()


@pytest.fixture
def cache(redis_client: redis.Redis) -> ModelCache:
    return ModelCache(redis_client, prefix=f"t{uuid.uuid4().hex[:8]}:")


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[MlflowClient, str]:
    """One SQLite registry per module: its first migration takes seconds."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    root: Path = tmp_path_factory.mktemp("mlflow")
    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    return client, ensure_experiment(client, "modelstore-it", root / "artifacts")


def test_redis_cache_honours_the_store_contract(cache: ModelCache) -> None:
    first = make_artifact(version="1")
    check_store_contract(cache, "transfer-fee", {"1": first, "2": first.with_version("2")})


def test_publish_then_load_current_from_redis(cache: ModelCache) -> None:
    artifact = make_artifact(version="3")
    blob = sign_artifact(artifact, KEY)
    key = cache.publish("transfer-fee", blob, "3")
    assert cache.fetch_current("transfer-fee") == ("3", blob)
    loaded = load_current(cache, "transfer-fee", KEY)
    assert loaded is not None and key == cache.key("transfer-fee", "3")
    rows = player_rows(100, seed=5)
    np.testing.assert_array_equal(loaded.predict(rows), artifact.predict(rows))


def test_tampered_blob_in_redis_is_refused(cache: ModelCache, redis_client: redis.Redis) -> None:
    blob = sign_artifact(make_artifact(version="1"), KEY)
    key = cache.publish("transfer-fee", blob, "1")
    offset = len(blob) // 2
    redis_client.setrange(key, offset, bytes([blob[offset] ^ 0x01]))
    with pytest.raises(ArtifactSignatureError):
        load_current(cache, "transfer-fee", KEY)
    with pytest.raises(ArtifactSignatureError):
        load_artifact(cache.fetch("transfer-fee", "1") or b"", KEY, expected_sha256=blob_sha256(blob))


def test_register_promote_and_load_champion(
    mlflow_store: tuple[MlflowClient, str], cache: ModelCache
) -> None:
    client, experiment_id = mlflow_store
    name = f"fee-{uuid.uuid4().hex[:8]}"
    assert champion_version(client, name) is None
    assert list_versions(client, name) == []
    artifact = make_artifact(version=None, name=name)

    first = log_and_register(
        client,
        artifact,
        KEY,
        experiment_id=experiment_id,
        run_name="first",
        params={"max_iter": 20},
        metrics={"holdout_mae": 0.3},
    )
    second = log_and_register(client, artifact, KEY, experiment_id=experiment_id, run_name="2nd")
    assert (first.version, second.version) == ("1", "2")
    assert first.artifact.version == "1" and load_artifact(first.blob, KEY).version == "1"

    set_champion(client, name, first.version)
    assert champion_version(client, name) == "1"
    blob = download_blob(client, name, champion_version(client, name) or "")
    assert blob == first.blob and blob_sha256(blob) == first.sha256

    rows = player_rows(100, seed=9)
    champion: ModelArtifact = load_artifact(blob, KEY)
    np.testing.assert_array_equal(champion.predict(rows), artifact.predict(rows))
    # MLflow's own copy (skops flavour) serves the same predictions through the alias.
    with tracking_uri_scope(client.tracking_uri):
        flavour = mlflow.sklearn.load_model(f"models:/{name}@champion")
    np.testing.assert_array_equal(flavour.predict(rows), artifact.predict(rows))

    set_champion(client, name, second.version)
    versions = list_versions(client, name)
    assert [(v.version, v.aliases) for v in versions] == [("1", ()), ("2", ("champion",))]
    assert versions[0].metrics["holdout_mae"] == 0.3
    assert versions[0].metrics["validation_error"] == artifact.metadata.validation_error
    assert versions[1].sha256 == second.sha256 and versions[1].run_id == second.run_id

    # Promotion path: registry champion -> Redis -> worker load.
    cache.publish(name, download_blob(client, name, "2"), "2")
    served = load_current(cache, name, KEY)
    assert served is not None and served.version == "2"


def test_download_refuses_a_blob_changed_on_disk(mlflow_store: tuple[MlflowClient, str]) -> None:
    client, experiment_id = mlflow_store
    name = f"fee-{uuid.uuid4().hex[:8]}"
    registered = log_and_register(
        client,
        make_artifact(version=None, name=name),
        KEY,
        experiment_id=experiment_id,
        run_name="tamper",
    )
    stored = Path(client.get_run(registered.run_id).info.artifact_uri.removeprefix("file://"))
    target = stored / "mlfc" / "artifact.mlfc"
    assert target.read_bytes() == registered.blob
    tampered = bytearray(registered.blob)
    tampered[-200] ^= 0x01
    target.write_bytes(bytes(tampered))
    with pytest.raises(ArtifactSignatureError):
        download_blob(client, name, registered.version)
