"""Promotion's verification: only a blob that would serve passes; the cause is named."""

from __future__ import annotations

import pytest

from modelstore import ModelArtifact, PromotionRefusedError, sign_artifact
from modelstore.signing import _HEADER
from modelstore.verify import verify_servable
from tests.unit.test_modelstore_artifact import make_artifact

KEY = "unit-test-signing-key"


@pytest.fixture(scope="module")
def artifact() -> ModelArtifact:
    return make_artifact(version="3")


def test_an_authentic_blob_of_the_right_version_passes(artifact: ModelArtifact) -> None:
    verified = verify_servable(sign_artifact(artifact, KEY), KEY, "transfer-fee", "3")
    assert verified.version == "3" and verified.metadata == artifact.metadata


def test_a_tampered_payload_is_refused_as_a_signature_error(artifact: ModelArtifact) -> None:
    blob = bytearray(sign_artifact(artifact, KEY))
    blob[_HEADER.size + 40] ^= 0xFF  # one payload byte
    with pytest.raises(PromotionRefusedError, match="ArtifactSignatureError.*nothing was moved"):
        verify_servable(bytes(blob), KEY, "transfer-fee", "3")


def test_a_blob_signed_with_another_key_is_refused(artifact: ModelArtifact) -> None:
    with pytest.raises(PromotionRefusedError, match="signature"):
        verify_servable(sign_artifact(artifact, "someone-else"), KEY, "transfer-fee", "3")


def test_an_authentic_blob_of_another_version_or_model_is_refused(artifact: ModelArtifact) -> None:
    blob = sign_artifact(artifact, KEY)
    with pytest.raises(PromotionRefusedError, match="signed as transfer-fee:3"):
        verify_servable(blob, KEY, "transfer-fee", "4")
    with pytest.raises(PromotionRefusedError, match="signed as transfer-fee:3"):
        verify_servable(blob, KEY, "other-model", "3")


def test_garbage_is_refused_as_a_format_error() -> None:
    with pytest.raises(PromotionRefusedError, match="ArtifactFormatError"):
        verify_servable(b"not a model", KEY, "transfer-fee", "3")
