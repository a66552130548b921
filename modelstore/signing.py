"""The signed blob: header, HMAC-SHA256, then a zip of metadata, model and reference sample.

    MLFC | format version (uint16) | payload length (uint64) | HMAC-SHA256 (32) | payload (zip)

Integers are big endian. The length tells a truncated blob (a format error) from a forged
one. The HMAC covers the header and the payload; it is checked before the zip is opened or
skops sees a byte, so a forged or corrupted blob is never deserialized.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import struct
import zipfile
from collections.abc import Iterable

from pydantic import SecretStr, ValidationError

from modelstore.artifact import ArtifactMetadata, ModelArtifact
from modelstore.exceptions import ArtifactFormatError, ArtifactSignatureError
from modelstore.reference import decode_reference, encode_reference
from modelstore.trust import dump_model, load_model

MAGIC = b"MLFC"
FORMAT_VERSION = 1
_HEADER = struct.Struct(">4sHQ")
_DIGEST_SIZE = hashlib.sha256().digest_size
_PREFIX_SIZE = _HEADER.size + _DIGEST_SIZE
# Largest uncompressed payload we agree to unpack, even from a correctly signed blob.
MAX_PAYLOAD_BYTES = 512 * 1024 * 1024
_METADATA, _MODEL, _REFERENCE = "metadata.json", "model.skops", "reference.json"

SigningKey = bytes | str | SecretStr


def _key_bytes(key: SigningKey) -> bytes:
    raw = key.get_secret_value() if isinstance(key, SecretStr) else key
    data = raw.encode() if isinstance(raw, str) else raw
    if not data:
        raise ValueError("the model signing key is empty")
    return data


def _mac(key: SigningKey, header: bytes, payload: bytes) -> bytes:
    return hmac.new(_key_bytes(key), header + payload, hashlib.sha256).digest()


def blob_sha256(blob: bytes) -> str:
    """Hex digest of the whole blob, as carried by lifecycle events.

    It names a blob, not a model: skops output embeds object ids and times, so signing the
    same artifact twice gives two digests.
    """
    return hashlib.sha256(blob).hexdigest()


def _pack(artifact: ModelArtifact, extra_trusted: Iterable[str]) -> bytes:
    entries = {
        _METADATA: artifact.metadata.model_dump_json().encode(),
        _MODEL: dump_model(artifact.model, extra_trusted),
        _REFERENCE: encode_reference(artifact.reference),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def sign_artifact(artifact: ModelArtifact, key: SigningKey, extra_trusted: Iterable[str] = ()) -> bytes:
    """The signed blob of ``artifact``; refuses models whose types could not be loaded back."""
    payload = _pack(artifact, extra_trusted)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, len(payload))
    return header + _mac(key, header, payload) + payload


def verify_blob(blob: bytes, key: SigningKey, expected_sha256: str | None = None) -> bytes:
    """The payload of an authentic blob; raises before anything in it is parsed."""
    if expected_sha256 is not None and not hmac.compare_digest(blob_sha256(blob), expected_sha256.lower()):
        raise ArtifactSignatureError("blob sha256 differs from the announced digest")
    if len(blob) < _PREFIX_SIZE:
        raise ArtifactFormatError(f"blob of {len(blob)} bytes is shorter than its header")
    header = bytes(blob[: _HEADER.size])
    magic, version, length = _HEADER.unpack(header)
    if magic != MAGIC:
        raise ArtifactFormatError("not a model artifact (bad magic)")
    if version != FORMAT_VERSION:
        raise ArtifactFormatError(f"unsupported artifact format version {version}")
    if len(blob) - _PREFIX_SIZE != length:
        raise ArtifactFormatError(
            f"blob holds {len(blob) - _PREFIX_SIZE} payload bytes, header says {length}"
        )
    signature, payload = bytes(blob[_HEADER.size : _PREFIX_SIZE]), bytes(blob[_PREFIX_SIZE:])
    if not hmac.compare_digest(signature, _mac(key, header, payload)):
        raise ArtifactSignatureError("artifact signature does not match: refusing to load it")
    return payload


def _unpack(payload: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            if set(infos) != {_METADATA, _MODEL, _REFERENCE}:
                raise ArtifactFormatError(f"unexpected payload entries {sorted(infos)}")
            if sum(info.file_size for info in infos.values()) > MAX_PAYLOAD_BYTES:
                raise ArtifactFormatError("payload is larger than MAX_PAYLOAD_BYTES")
            return {name: archive.read(name) for name in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ArtifactFormatError(f"payload is not a readable zip: {exc}") from exc


def load_artifact(
    blob: bytes,
    key: SigningKey,
    *,
    expected_sha256: str | None = None,
    extra_trusted: Iterable[str] = (),
) -> ModelArtifact:
    """Verify ``blob`` and rebuild its artifact; forged or broken blobs raise, unloaded."""
    entries = _unpack(verify_blob(blob, key, expected_sha256))
    try:
        metadata = ArtifactMetadata.model_validate_json(entries[_METADATA])
    except ValidationError as exc:
        raise ArtifactFormatError(f"artifact metadata is invalid: {exc}") from exc
    model = load_model(entries[_MODEL], extra_trusted)
    return ModelArtifact(model=model, metadata=metadata, reference=decode_reference(entries[_REFERENCE]))
