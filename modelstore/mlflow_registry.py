"""The MLflow bridge: runs, registered versions, the ``champion`` alias and the signed blob.

Each registered version carries two things: the sklearn model logged by MLflow's skops
flavour (so the UI and ``mlflow.sklearn.load_model`` work) and our signed blob as a run
artifact (what Redis serves, with metadata and reference sample). Clients are injected.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import mlflow
import mlflow.sklearn
import sklearn
import skops
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo

from modelstore.artifact import ModelArtifact
from modelstore.exceptions import (
    ArtifactNotFoundError,
    ArtifactSignatureError,
    RegistryRefused,
    RegistryUnavailable,
)
from modelstore.signing import SigningKey, blob_sha256, sign_artifact
from modelstore.trust import dump_model, required_types

CHAMPION_ALIAS = "champion"
BLOB_DIR, BLOB_FILE = "mlfc", "artifact.mlfc"
TAG_SHA256, TAG_BLOB_PATH = "mlfc.sha256", "mlfc.artifact_path"
# The last live verdict on a version ("shadow" while judged, "rejected"): what a restarted
# monitor compares the shadow slot with (modelstore/shadow_reconcile.py).
TAG_VERDICT = "mlfc.verdict"
_SIGNATURE_ROWS = 50
_TRACKING_ENV = "MLFLOW_TRACKING_URI"


@dataclass(frozen=True)
class RegisteredArtifact:
    """What registering produced: the registry version and the blob signed with it."""

    version: str
    run_id: str
    blob: bytes
    sha256: str
    artifact: ModelArtifact


@dataclass(frozen=True)
class VersionInfo:
    """One registered version, for listings and champion/challenger comparisons."""

    version: str
    run_id: str | None
    created: datetime
    metrics: dict[str, float] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    sha256: str | None = None  # None: registration stopped before the blob was logged


def _missing(exc: MlflowException) -> bool:
    return bool(exc.error_code == "RESOURCE_DOES_NOT_EXIST")


# How MLflow 3 reports an outage rather than a refusal: its SQL store wraps a locked or
# unreachable database as TEMPORARILY_UNAVAILABLE; its REST client, once its own retries of
# 429/5xx and refused connections are spent, raises "API request to <url> failed with ...".
_OUTAGE_CODES = frozenset({"TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"})
_REST_FAILURE = "API request to "


def registry_unavailable(exc: BaseException) -> bool:
    """The registry did not answer (worth retrying), as opposed to refusing the request."""
    if not isinstance(exc, MlflowException):
        return False
    return exc.error_code in _OUTAGE_CODES or str(exc.message).startswith(_REST_FAILURE)


@contextmanager
def registry_errors() -> Iterator[None]:
    """MLflow's errors as ours, so callers outside the model store need not import MLflow:
    an outage as RegistryUnavailable (a TransientError: the consume loop retries it with
    backoff), any other as RegistryRefused."""
    try:
        yield
    except MlflowException as exc:
        if registry_unavailable(exc):
            raise RegistryUnavailable(f"MLflow registry unavailable: {exc.message}") from exc
        raise RegistryRefused(f"MLflow registry refused: {exc.message}") from exc


def ensure_experiment(client: MlflowClient, name: str, artifact_location: str | Path) -> str:
    """The id of experiment ``name``, created with its artifacts under ``artifact_location``."""
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    location = artifact_location.as_uri() if isinstance(artifact_location, Path) else artifact_location
    return str(client.create_experiment(name, artifact_location=location))


@contextmanager
def tracking_uri_scope(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API (a process-wide URI) at ``uri``, then put it back.

    log_model and load_model only exist in the fluent API; without this they would write
    to MLflow 3's default ``./mlflow.db``. Not thread-safe, like the fluent API itself.
    """
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    env = os.environ.get(_TRACKING_ENV)
    mlflow.set_tracking_uri(uri)  # also exports MLFLOW_TRACKING_URI for subprocesses
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None unsets it
        if env is not None:
            os.environ[_TRACKING_ENV] = env


def _log_sklearn(artifact: ModelArtifact, skops_types: list[str]) -> ModelInfo:
    signature = None
    sample = artifact.reference
    if len(sample) and set(artifact.feature_names) <= set(sample.columns):
        rows = sample[list(artifact.feature_names)].head(_SIGNATURE_ROWS)
        # Declared as doubles: an int column cannot hold the missing values serving may see.
        ints = rows.select_dtypes("integer").columns
        rows = rows.astype(dict.fromkeys(ints, "float64"))
        signature = infer_signature(rows, artifact.predict(rows))
    info = mlflow.sklearn.log_model(
        artifact.model,
        name="model",
        serialization_format="skops",
        skops_trusted_types=skops_types,
        signature=signature,
        # Explicit requirements skip MLflow's slow inference (it re-imports the model).
        pip_requirements=[f"scikit-learn=={sklearn.__version__}", f"skops=={skops.__version__}"],
    )
    return cast(ModelInfo, info)


def _ensure_registered_model(client: MlflowClient, name: str) -> None:
    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if not _missing(exc):
            raise
        client.create_registered_model(name)


def log_and_register(
    client: MlflowClient,
    artifact: ModelArtifact,
    key: SigningKey,
    *,
    experiment_id: str,
    run_name: str,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    extra_trusted: Iterable[str] = (),
) -> RegisteredArtifact:
    """Log a run, register a new version of ``artifact.name`` and sign the blob with it.

    The blob is signed here, not by the caller, because the version it embeds is only known
    once MLflow has registered it.
    """
    name = artifact.name
    # Fails before any run exists if the model holds types we would refuse to load.
    skops_types = required_types(dump_model(artifact.model, extra_trusted))
    all_metrics = {**artifact.metadata.metrics, **(metrics or {})}
    all_metrics["validation_error"] = artifact.metadata.validation_error
    with (
        tracking_uri_scope(client.tracking_uri),
        mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run,
    ):
        run_id = run.info.run_id
        mlflow.log_params(dict(params or {}))
        mlflow.log_metrics(all_metrics)
        info = _log_sklearn(artifact, skops_types)
        _ensure_registered_model(client, name)
        created = client.create_model_version(
            name, source=info.model_uri, run_id=run_id, model_id=info.model_id
        )
        version = str(created.version)  # MLflow 3 on SQLite hands back an int here
        registered = artifact.with_version(version)
        blob = sign_artifact(registered, key, extra_trusted)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / BLOB_FILE
            path.write_bytes(blob)
            client.log_artifact(run_id, str(path), artifact_path=BLOB_DIR)
        sha256 = blob_sha256(blob)
        # Tagged last: a version without the digest never got its blob and is not servable.
        client.set_model_version_tag(name, version, TAG_BLOB_PATH, f"{BLOB_DIR}/{BLOB_FILE}")
        client.set_model_version_tag(name, version, TAG_SHA256, sha256)
    return RegisteredArtifact(version, run_id, blob, sha256, registered)


def set_champion(client: MlflowClient, name: str, version: str) -> None:
    """Point the ``champion`` alias at ``version``."""
    client.set_registered_model_alias(name, CHAMPION_ALIAS, str(version))


def champion_version(client: MlflowClient, name: str) -> str | None:
    """The version behind the ``champion`` alias, or None before the first promotion."""
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException as exc:
        if _missing(exc):
            return None
        raise
    version = aliases.get(CHAMPION_ALIAS)
    return None if version is None else str(version)


def download_blob(client: MlflowClient, name: str, version: str) -> bytes:
    """The signed blob of ``name`` at ``version``, checked against its registered digest.

    Callers still verify it with ``load_artifact``: the digest guards transport, the HMAC
    guards authorship.
    """
    try:
        model_version = client.get_model_version(name, str(version))
    except MlflowException as exc:
        if _missing(exc):
            raise ArtifactNotFoundError(f"{name} has no version {version}") from exc
        raise
    tags = model_version.tags or {}
    if TAG_SHA256 not in tags or not model_version.run_id:
        raise ArtifactNotFoundError(f"{name} version {version} has no signed blob")
    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(model_version.run_id, tags[TAG_BLOB_PATH], tmp)
        blob = Path(local).read_bytes()
    if blob_sha256(blob) != tags[TAG_SHA256]:
        raise ArtifactSignatureError(f"{name} version {version}: blob differs from its digest")
    return blob


def list_versions(client: MlflowClient, name: str) -> list[VersionInfo]:
    """Every version of ``name``, oldest first, with its run's metrics and its aliases."""
    if "'" in name:
        raise ValueError(f"model name {name!r} cannot be used in an MLflow filter")
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException as exc:
        if _missing(exc):
            return []
        raise
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    infos = []
    for mv in client.search_model_versions(f"name = '{name}'"):
        version = str(mv.version)
        metrics = dict(client.get_run(mv.run_id).data.metrics) if mv.run_id else {}
        infos.append(
            VersionInfo(
                version=version,
                run_id=mv.run_id or None,
                created=datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC),
                metrics=metrics,
                aliases=tuple(sorted(by_version.get(version, []))),
                sha256=(mv.tags or {}).get(TAG_SHA256),
            )
        )
    return sorted(infos, key=lambda info: int(info.version))


__all__ = [
    "CHAMPION_ALIAS",
    "RegisteredArtifact",
    "VersionInfo",
    "champion_version",
    "download_blob",
    "ensure_experiment",
    "list_versions",
    "log_and_register",
    "registry_errors",
    "registry_unavailable",
    "remove_half_registered",
    "run_params",
    "set_champion",
    "set_version_tag",
    "version_tags",
    "tracking_uri_scope",
]


def run_params(client: MlflowClient, run_id: str | None) -> dict[str, str]:
    """The parameters a version's run was logged with ({} when it has no run)."""
    return dict(client.get_run(run_id).data.params) if run_id else {}


def set_version_tag(client: MlflowClient, name: str, version: str, key: str, value: str) -> None:
    client.set_model_version_tag(name, version, key, value)


def version_tags(client: MlflowClient, name: str, version: str) -> dict[str, str]:
    return dict(client.get_model_version(name, version).tags or {})


def remove_half_registered(client: MlflowClient, name: str, experiment_id: str) -> list[str]:
    """Delete versions that never got their signed blob, and fail runs left open by a crash.

    Call it only while no registration is in progress (the retrainer holds its lock): then a
    version without its digest tag, or a run still RUNNING, can only be the leftover of a
    process that died half-way.
    """
    removed = []
    if "'" not in name:
        try:
            versions = list(client.search_model_versions(f"name = '{name}'"))
        except MlflowException as exc:
            if not _missing(exc):
                raise
            versions = []
        for mv in versions:
            if TAG_SHA256 not in (mv.tags or {}):
                client.delete_model_version(name, str(mv.version))
                removed.append(str(mv.version))
    for run in client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'"):
        client.set_terminated(run.info.run_id, status="FAILED")
    return removed
