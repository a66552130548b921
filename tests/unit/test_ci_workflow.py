""".github/workflows/ci.yml is a valid GitHub workflow that runs the README's test command.

Validated offline against the GitHub workflow schema that check-jsonschema vendors
(SchemaStore's), then checked for what the project promises its users: Java 17 and Python
3.11 from the official actions with their caches, `make test`, the test artifacts uploaded,
and a Docker build that pushes nothing; every action pinned by a version tag.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
VERSION_TAG = re.compile(r"^[\w.-]+/[\w.-]+@v\d+(\.\d+){0,2}$")


def load(text: str) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True; GitHub (YAML 1.2) reads it as the string.
    document: dict[Any, Any] = yaml.safe_load(text)
    if True in document:
        document["on"] = document.pop(True)
    return document


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = get_builtin_schema("vendor.github-workflows")
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return found


def step_using(workflow: dict[str, Any], job: str, action: str) -> dict[str, Any]:
    [step] = [s for s in steps(workflow, job) if s.get("uses", "").startswith(f"{action}@")]
    return step


def test_the_workflow_matches_the_github_schema(workflow: dict[str, Any], validator: Any) -> None:
    errors = [error.message for error in validator.iter_errors(workflow)]
    assert not errors


def test_the_schema_check_can_fail(workflow: dict[str, Any], validator: Any) -> None:
    broken = {**workflow, "jobs": {"test": {"steps": [{"run": "make test"}]}}}  # no runs-on
    assert list(validator.iter_errors(broken))


def test_every_action_is_pinned_by_a_version_tag(workflow: dict[str, Any]) -> None:
    used = [s["uses"] for job in workflow["jobs"] for s in steps(workflow, job) if "uses" in s]
    assert used
    assert all(VERSION_TAG.match(action) for action in used), used


def test_the_test_job_runs_the_readme_command_with_java_17_and_python_3_11(workflow: dict[str, Any]) -> None:
    assert workflow["jobs"]["test"]["runs-on"] == "ubuntu-latest"
    java = step_using(workflow, "test", "actions/setup-java")["with"]
    assert java["distribution"] == "temurin" and str(java["java-version"]) == "17"
    assert java["cache"] == "maven"
    python = step_using(workflow, "test", "actions/setup-python")["with"]
    assert str(python["python-version"]) == "3.11" and python["cache"] == "pip"
    assert "requirements.lock" in python["cache-dependency-path"]
    assert [s["run"] for s in steps(workflow, "test") if "run" in s] == ["make test"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme


def test_the_test_artifacts_are_uploaded_even_when_tests_fail(workflow: dict[str, Any]) -> None:
    upload = step_using(workflow, "test", "actions/upload-artifact")
    assert upload["if"] == "always()"
    assert upload["with"]["path"].rstrip("/") == "test-artifacts"
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "test-artifacts/junit.xml" in script  # what the step uploads is what the suite writes


def test_the_image_job_builds_the_dockerfile_without_pushing(workflow: dict[str, Any]) -> None:
    build = step_using(workflow, "image", "docker/build-push-action")["with"]
    assert build["push"] is False
    assert (ROOT / build["file"]).is_file()
    assert not str(build["tags"]).endswith(":latest")
