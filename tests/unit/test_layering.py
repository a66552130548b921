"""The package map holds: each top-level package imports only the packages it may.

The map is ../shared/ARCHITECTURE.md's, with documented widenings: ``modelstore`` uses
``stack`` (the lifecycle registry publishes events and writes Redis with the shared
settings); ``consumers`` and ``api`` use ``features`` (GET /v1/players shows the vector a
request would get now, built by the serving code itself). ``demo`` and ``cli`` sit on top;
``inference``, ``monitoring`` and ``retrainer`` never import each other: they talk through
Kafka. A second map says which packages may use which client library, so Faust stays in the
worker and MLflow behind ``modelstore``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED: dict[str, set[str]] = {
    "schemas": set(),
    "features": {"schemas"},
    "stack": {"schemas"},
    "modelstore": {"schemas", "stack"},
    "producers": {"schemas", "stack"},
    "devstack": {"schemas", "stack"},
    "inference": {"schemas", "features", "modelstore", "stack"},
    "monitoring": {"schemas", "features", "modelstore", "stack"},
    "retrainer": {"schemas", "features", "modelstore", "stack"},
    "consumers": {"schemas", "features", "modelstore", "stack"},
    "api": {"schemas", "features", "modelstore", "stack", "consumers"},
    "demo": {
        "schemas",
        "features",
        "modelstore",
        "stack",
        "devstack",
        "producers",
        "retrainer",
        "consumers",
        "monitoring",
    },
}
OURS = {*ALLOWED, "cli"}

# Client libraries and the packages that may import them.
LIBRARIES: dict[str, set[str]] = {
    "faust": {"inference"},
    "aiokafka": {"inference"},
    "mlflow": {"modelstore", "devstack"},
    "redis": {"stack", "devstack", "modelstore", "inference", "retrainer", "consumers"},
    "confluent_kafka": {
        "stack",
        "producers",
        "inference",
        "monitoring",
        "retrainer",
        "consumers",
        "api",
        "modelstore",
        "demo",
    },
}


def imported_packages(package: str, names_of_interest: set[str] = OURS) -> dict[str, set[str]]:
    """Top-level packages of interest imported anywhere in ``package`` (lazy imports too), by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in names_of_interest and top != package:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_map_allows(package: str) -> None:
    used = imported_packages(package)
    forbidden = {name: sorted(files) for name, files in used.items() if name not in ALLOWED[package]}
    assert not forbidden, f"{package} imports packages the map does not allow: {forbidden}"


def test_the_check_sees_imports() -> None:
    # Guards the test above against passing vacuously (a wrong ROOT, a parse that finds nothing).
    assert set(imported_packages("inference")) == {"schemas", "features", "modelstore", "stack"}
    assert "features" in imported_packages("consumers")


@pytest.mark.parametrize("package", sorted([*ALLOWED, "cli"]))
def test_client_libraries_stay_where_the_map_puts_them(package: str) -> None:
    used = imported_packages(package, set(LIBRARIES))
    forbidden = {name: sorted(files) for name, files in used.items() if package not in LIBRARIES[name]}
    assert not forbidden, f"{package} imports client libraries the map keeps elsewhere: {forbidden}"


def test_the_library_check_sees_imports() -> None:
    assert {"faust", "aiokafka"} <= set(imported_packages("inference", set(LIBRARIES)))
