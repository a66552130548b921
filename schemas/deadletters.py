"""Dead letters: what could not be processed, with the raw bytes for a later replay.

A dead letter always fits on its topic: a raw value too large to carry whole (its base64 is a
third larger than the bytes) is cut to a head, and ``raw_size`` with ``raw_sha256`` still name
the original, so a 900 KB poison message gives a dead letter under the 1 MB message limit
instead of an error that stops the consumer. ``dead_letter`` builds one from bytes;
``dead_letter_for`` from any client's consumed message (confluent-kafka, aiokafka, Faust),
keeping its key, headers and trace id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from schemas.envelope import Event
from schemas.fields import NonEmptyStr

# librdkafka refuses messages over message.max.bytes (1,000,000 by default) and the broker
# over 1,048,588: stay well under both, with room for the record's own overhead.
MAX_DEAD_LETTER_BYTES = 900_000
MAX_REASON_CHARS = 2_000
MAX_HEADER_CHARS = 1_000
MAX_KEY_BYTES = 1_000
_HeaderValue = bytes | str | None
HeadersIn = Mapping[str, _HeaderValue] | Sequence[tuple[str, _HeaderValue]] | None


def _is_base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError("not valid base64") from exc
    return value


Base64Str = Annotated[str, AfterValidator(_is_base64)]


class DeadLetter(Event):
    """A message that failed to decode or process, kept byte for byte (or its head, if huge)."""

    event_type: Literal["DeadLetter"] = "DeadLetter"
    schema_version: Literal[1] = 1
    source_topic: NonEmptyStr
    partition: int | None = Field(default=None, ge=0)
    offset: int | None = Field(default=None, ge=0)
    key: Base64Str | None = Field(default=None, description="Base64 of the raw key bytes.")
    raw_value_b64: Base64Str = Field(description="Base64 of the raw value bytes (a head if truncated).")
    reason: NonEmptyStr
    error_type: NonEmptyStr
    headers: dict[str, str] = Field(default_factory=dict)
    raw_size: int | None = Field(default=None, ge=0, description="Length of the original value.")
    raw_sha256: str | None = Field(default=None, description="SHA-256 (hex) of the original value.")
    truncated: bool = Field(
        default=False, description="The value, key or headers were cut to make the letter fit."
    )

    def raw_value(self) -> bytes:
        """The original value bytes (only their head when ``truncated``)."""
        return base64.b64decode(self.raw_value_b64)

    def raw_key(self) -> bytes | None:
        """The original key bytes, if the message had a key."""
        return None if self.key is None else base64.b64decode(self.key)


def dead_letter(
    raw: bytes | None,
    reason: str,
    source_topic: str,
    *,
    source: str,
    error_type: str = "SchemaDecodeError",
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | str | None = None,
    headers: HeadersIn = None,
    trace_id: str | None = None,
    max_bytes: int = MAX_DEAD_LETTER_BYTES,
) -> DeadLetter:
    """A DeadLetter keeping the raw bytes (base64) and why they could not be processed.

    The trace id is taken from the message's headers when it has one, so the failure stays
    on the trace of the event that caused it. The letter's JSON stays under ``max_bytes``.
    """
    raw = bytes(raw or b"")
    key_bytes = key.encode("utf-8") if isinstance(key, str) else key
    text_headers = _text_headers(headers)
    cut = len(reason) > MAX_REASON_CHARS or any(len(v) > MAX_HEADER_CHARS for v in text_headers.values())
    if key_bytes is not None and len(key_bytes) > MAX_KEY_BYTES:
        key_bytes, cut = key_bytes[:MAX_KEY_BYTES], True
    envelope: dict[str, Any] = {"source": source}
    trace = trace_id or text_headers.get("trace_id")
    if trace:
        envelope["trace_id"] = trace[:MAX_HEADER_CHARS]
    letter = DeadLetter(
        source_topic=source_topic or "unknown",
        partition=partition if partition is None or partition >= 0 else None,
        offset=offset if offset is None or offset >= 0 else None,
        key=None if key_bytes is None else base64.b64encode(key_bytes).decode("ascii"),
        raw_value_b64="",
        reason=(reason or "unknown reason")[:MAX_REASON_CHARS],
        error_type=error_type or "unknown",
        headers={name[:MAX_HEADER_CHARS]: v[:MAX_HEADER_CHARS] for name, v in text_headers.items()},
        raw_size=len(raw),
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        truncated=cut,
        **envelope,
    )
    # The envelope without the value, plus the value's base64 (4 bytes per 3), must fit.
    room = max_bytes - len(letter.model_dump_json()) - 64
    keep = max(0, room) // 4 * 3
    if len(raw) > keep:
        raw, cut = raw[:keep], True
    return letter.model_copy(
        update={"raw_value_b64": base64.b64encode(raw).decode("ascii"), "truncated": cut}
    )


def dead_letter_for(
    message: object,
    reason: str,
    *,
    source: str,
    error_type: str = "SchemaDecodeError",
    max_bytes: int = MAX_DEAD_LETTER_BYTES,
) -> DeadLetter:
    """A DeadLetter from a consumed message of any client: value, key, position and headers.

    confluent-kafka's Message has methods (``message.value()``), aiokafka's ConsumerRecord and
    Faust's Message attributes (``message.value``); both shapes are read the same way.
    """
    return dead_letter(
        _field(message, "value"),
        reason,
        str(_field(message, "topic") or "unknown"),
        source=source,
        error_type=error_type,
        partition=_field(message, "partition"),
        offset=_field(message, "offset"),
        key=_field(message, "key"),
        headers=_field(message, "headers"),
        max_bytes=max_bytes,
    )


def _field(message: object, name: str) -> Any:
    value = getattr(message, name, None)
    return value() if callable(value) else value


def _text_headers(headers: HeadersIn) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else (headers or [])
    return {
        str(name): value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
        for name, value in items
    }
