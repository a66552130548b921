"""Signed blobs: authentic ones load and predict; anything else is refused unread."""

from __future__ import annotations

import operator
import os
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import modelstore.signing as signing
from modelstore import (
    ArtifactFormatError,
    ArtifactMetadata,
    ArtifactSignatureError,
    ModelArtifact,
    UntrustedTypeError,
    blob_sha256,
    load_artifact,
    sign_artifact,
)
from tests.unit.test_modelstore_artifact import make_artifact, player_rows

KEY = "unit-test-signing-key"


@pytest.fixture(scope="module")
def artifact() -> ModelArtifact:
    return make_artifact()


@pytest.fixture(scope="module")
def blob(artifact: ModelArtifact) -> bytes:
    return sign_artifact(artifact, KEY)


@pytest.fixture
def skops_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to read a model payload fails the test."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("skops touched a blob that should have been refused")

    monkeypatch.setattr(sio, "loads", refuse)
    monkeypatch.setattr(sio, "get_untrusted_types", refuse)


def test_round_trip_predicts_identically(artifact: ModelArtifact, blob: bytes) -> None:
    loaded = load_artifact(blob, KEY)
    rows = player_rows(200, seed=7)
    np.testing.assert_array_equal(loaded.predict(rows), artifact.predict(rows))
    assert loaded.metadata == artifact.metadata
    pd.testing.assert_frame_equal(loaded.reference, artifact.reference)


def test_sha256_names_the_blob(artifact: ModelArtifact, blob: bytes) -> None:
    import hashlib

    assert blob_sha256(blob) == hashlib.sha256(blob).hexdigest()
    # skops output is not byte-stable, so the digest identifies a blob, not a model.
    assert load_artifact(sign_artifact(artifact, KEY), KEY).metadata == artifact.metadata


def test_key_may_be_secret_str_or_bytes(blob: bytes) -> None:
    from pydantic import SecretStr

    assert load_artifact(blob, SecretStr(KEY)).name == "transfer-fee"
    assert load_artifact(blob, KEY.encode()).name == "transfer-fee"


def _positions(size: int) -> list[int]:
    # Every byte of header and signature, then a spread over the payload (both ends too).
    head = list(range(signing._PREFIX_SIZE))
    return head + sorted(set(np.linspace(signing._PREFIX_SIZE, size - 1, 400, dtype=int)))


@pytest.mark.usefixtures("skops_forbidden")
def test_any_flipped_byte_is_refused_before_skops(blob: bytes) -> None:
    for position in _positions(len(blob)):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises((ArtifactSignatureError, ArtifactFormatError)):
            load_artifact(bytes(tampered), KEY)


@pytest.mark.usefixtures("skops_forbidden")
def test_flipped_payload_byte_is_a_signature_error(blob: bytes) -> None:
    tampered = bytearray(blob)
    tampered[len(blob) // 2] ^= 0xFF
    with pytest.raises(ArtifactSignatureError):
        load_artifact(bytes(tampered), KEY)


@pytest.mark.usefixtures("skops_forbidden")
def test_wrong_key_is_refused(blob: bytes) -> None:
    with pytest.raises(ArtifactSignatureError):
        load_artifact(blob, KEY + "x")


@pytest.mark.usefixtures("skops_forbidden")
def test_announced_digest_must_match(blob: bytes) -> None:
    with pytest.raises(ArtifactSignatureError):
        load_artifact(blob, KEY, expected_sha256="0" * 64)


def test_announced_digest_that_matches_loads(blob: bytes) -> None:
    assert load_artifact(blob, KEY, expected_sha256=blob_sha256(blob).upper()).version == "1"


@pytest.mark.usefixtures("skops_forbidden")
@pytest.mark.parametrize(
    "garbage",
    [b"", b"MLFC", b"\x00" * 100, os.urandom(4096), b"PK\x03\x04" + os.urandom(200)],
    ids=["empty", "magic-only", "zeros", "random", "zip-looking"],
)
def test_garbage_is_a_format_error(garbage: bytes) -> None:
    with pytest.raises(ArtifactFormatError):
        load_artifact(garbage, KEY)


@pytest.mark.usefixtures("skops_forbidden")
@pytest.mark.parametrize("keep", [0, 3, 10, 46, 47, 1000, -1])
def test_truncated_blob_is_a_format_error(blob: bytes, keep: int) -> None:
    with pytest.raises(ArtifactFormatError):
        load_artifact(blob[:keep], KEY)


@pytest.mark.usefixtures("skops_forbidden")
def test_appended_bytes_are_a_format_error(blob: bytes) -> None:
    with pytest.raises(ArtifactFormatError):
        load_artifact(blob + b"\x00", KEY)


@pytest.mark.usefixtures("skops_forbidden")
def test_unknown_format_version_is_refused(blob: bytes) -> None:
    bumped = blob[:4] + (signing.FORMAT_VERSION + 1).to_bytes(2, "big") + blob[6:]
    with pytest.raises(ArtifactFormatError, match="version"):
        load_artifact(bumped, KEY)


def test_empty_key_is_refused(artifact: ModelArtifact) -> None:
    with pytest.raises(ValueError, match="empty"):
        sign_artifact(artifact, "")


def _unsafe_artifact() -> ModelArtifact:
    # Never fitted nor called: the point is that its payload names os.system.
    model = Pipeline([("f", FunctionTransformer(func=os.system)), ("m", LinearRegression())])
    metadata = ArtifactMetadata(
        model_name="evil",
        feature_names=("a",),
        train_to=datetime(2024, 1, 1, tzinfo=UTC),
        validation_error=0.0,
    )
    return ModelArtifact(model=model, metadata=metadata)


def test_untrusted_type_is_refused_at_signing() -> None:
    with pytest.raises(UntrustedTypeError, match="system"):
        sign_artifact(_unsafe_artifact(), KEY)


def test_untrusted_type_in_a_signed_blob_is_refused_at_loading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A key holder who bypasses our signer still cannot make a worker build os.system.
    monkeypatch.setattr(signing, "dump_model", lambda model, _extra: sio.dumps(model))
    blob = sign_artifact(_unsafe_artifact(), KEY)
    monkeypatch.undo()

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("skops.loads ran on an untrusted payload")

    monkeypatch.setattr(sio, "loads", refuse)
    with pytest.raises(UntrustedTypeError, match="system"):
        load_artifact(blob, KEY)


def test_extra_trusted_types_widen_the_allow_list_explicitly() -> None:
    model = Pipeline([("f", FunctionTransformer(func=operator.neg)), ("m", LinearRegression())])
    x = np.arange(1.0, 21.0).reshape(-1, 1)
    model.fit(x, x.ravel())
    metadata = ArtifactMetadata(
        model_name="sqrt",
        feature_names=("a",),
        train_to=datetime(2024, 1, 1, tzinfo=UTC),
        validation_error=0.0,
    )
    artifact = ModelArtifact(model=model, metadata=metadata)
    with pytest.raises(UntrustedTypeError, match="_operator.neg"):
        sign_artifact(artifact, KEY)
    blob = sign_artifact(artifact, KEY, extra_trusted=["_operator.neg"])
    with pytest.raises(UntrustedTypeError):
        load_artifact(blob, KEY)
    loaded = load_artifact(blob, KEY, extra_trusted=["_operator.neg"])
    np.testing.assert_array_equal(loaded.predict(x), artifact.predict(x))
