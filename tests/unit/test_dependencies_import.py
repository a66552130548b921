"""Every runtime dependency imports beside the others: pip can resolve sets that don't.

evidently 0.7.23 beside pandas 3.x is the known case (ImportError: infer_dtype_from_object).
"""

from __future__ import annotations

import importlib

import pytest

RUNTIME_MODULES = [
    "confluent_kafka",
    "faust",
    "aiokafka",
    "cramjam",
    "fastapi",
    "uvicorn",
    "pydantic",
    "pydantic_settings",
    "sklearn",
    "pandas",
    "numpy",
    "mlflow",
    "redis",
    "evidently",
    "skops.io",
    "typer",
    "rich",
    "tenacity",
    "httpx",
    "prometheus_client",
    "yaml",
]


@pytest.mark.parametrize("module", RUNTIME_MODULES)
def test_runtime_dependency_imports(module: str) -> None:
    importlib.import_module(module)


def test_evidently_drift_preset_imports_with_pinned_pandas() -> None:
    import pandas
    from evidently import Report
    from evidently.presets import DataDriftPreset

    assert int(pandas.__version__.split(".")[0]) < 3
    assert Report([DataDriftPreset()]) is not None
