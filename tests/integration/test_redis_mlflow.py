"""Redis and MLflow, the two other real parts of the stack."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from stack.redis_clients import redis_client
from stack.settings import Settings

pytestmark = pytest.mark.integration


def test_redis_set_get_round_trip(stack_settings: Settings, unique: str) -> None:
    client = redis_client(stack_settings)
    payload = bytes(range(256)) * 4
    client.set(f"roundtrip:{unique}", payload, ex=60)
    assert client.get(f"roundtrip:{unique}") == payload
    assert client.get(f"missing:{unique}") is None


def test_mlflow_registers_and_loads_by_alias(stack_settings: Settings, unique: str) -> None:
    x = np.arange(20, dtype=float).reshape(-1, 1)
    model = LinearRegression().fit(x, 3 * x.ravel() + 1)
    name = f"tiny-{unique}"
    mlflow.set_tracking_uri(stack_settings.mlflow_uri)
    client = mlflow.MlflowClient(tracking_uri=stack_settings.mlflow_uri)
    experiment = client.create_experiment(
        f"foundation-{unique}", artifact_location=(stack_settings.mlflow_artifacts / unique).as_uri()
    )
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name)
    version = str(info.registered_model_version)
    client.set_registered_model_alias(name, "champion", version)

    loaded = mlflow.sklearn.load_model(f"models:/{name}@champion")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    assert str(client.get_model_version_by_alias(name, "champion").version) == version
