"""Dead letters: what could not be processed, with the raw bytes for a later replay."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from schemas.envelope import Event
from schemas.fields import NonEmptyStr


def _is_base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError("not valid base64") from exc
    return value


Base64Str = Annotated[str, AfterValidator(_is_base64)]


class DeadLetter(Event):
    """A message that failed to decode or process, kept byte for byte."""

    event_type: Literal["DeadLetter"] = "DeadLetter"
    schema_version: Literal[1] = 1
    source_topic: NonEmptyStr
    partition: int | None = Field(default=None, ge=0)
    offset: int | None = Field(default=None, ge=0)
    key: Base64Str | None = Field(default=None, description="Base64 of the raw key bytes.")
    raw_value_b64: Base64Str = Field(description="Base64 of the raw value bytes.")
    reason: NonEmptyStr
    error_type: NonEmptyStr
    headers: dict[str, str] = Field(default_factory=dict)

    def raw_value(self) -> bytes:
        """The original value bytes."""
        return base64.b64decode(self.raw_value_b64)

    def raw_key(self) -> bytes | None:
        """The original key bytes, if the message had a key."""
        return None if self.key is None else base64.b64decode(self.key)
