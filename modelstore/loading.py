"""Fetch from a ModelStore and verify in one call, as workers do on start-up and hot swap."""

from __future__ import annotations

from modelstore.artifact import ModelArtifact
from modelstore.exceptions import ArtifactMismatchError, ArtifactNotFoundError
from modelstore.ports import ModelStore
from modelstore.signing import SigningKey, load_artifact


def _checked(artifact: ModelArtifact, name: str, version: str) -> ModelArtifact:
    # A validly signed blob stored under the wrong key would otherwise serve silently.
    if artifact.name != name or artifact.version != version:
        raise ArtifactMismatchError(
            f"stored as {name}:{version} but signed as {artifact.name}:{artifact.version}"
        )
    return artifact


def load_version(
    store: ModelStore, name: str, version: str, key: SigningKey, expected_sha256: str | None = None
) -> ModelArtifact:
    """The verified artifact of ``name`` at ``version``."""
    blob = store.fetch(name, version)
    if blob is None:
        raise ArtifactNotFoundError(f"no artifact for {name} version {version}")
    return _checked(load_artifact(blob, key, expected_sha256=expected_sha256), name, version)


def load_current(store: ModelStore, name: str, key: SigningKey) -> ModelArtifact | None:
    """The verified current artifact of ``name``, or None if nothing was published yet."""
    found = store.fetch_current(name)
    if found is None:
        return None
    version, blob = found
    return _checked(load_artifact(blob, key), name, version)
