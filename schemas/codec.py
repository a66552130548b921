"""The wire codec used by every producer and consumer: events <-> Kafka bytes and headers.

Values are pydantic's JSON (UTF-8). Headers repeat event_type and schema_version so that
routers and the flows page can see what a message is without decoding it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, overload

from pydantic import ValidationError

# Re-exported: dead letters used to be built here, and producers still import them from here.
from schemas.deadletters import dead_letter as dead_letter
from schemas.deadletters import dead_letter_for as dead_letter_for
from schemas.envelope import ENVELOPE_FIELDS, Event
from schemas.exceptions import SchemaDecodeError, TopicMismatchError
from schemas.registry import (
    ANY_EVENT,
    FAMILIES,
    LATEST,
    event_type_of,
    family_of,
    upgrade_to_latest,
)
from schemas.topics import TopicSpec

E = TypeVar("E", bound=Event)
HeaderValue = bytes | str | None
HeadersLike = Mapping[str, HeaderValue] | Sequence[tuple[str, HeaderValue]] | None
# As confluent-kafka types them (we only put bytes in).
Headers = list[tuple[str, str | bytes | None]]

CONTENT_TYPE = "application/json"
_MAX_ERRORS = 5
_MAX_INPUT_CHARS = 60


def encode(event: Event, key: str | None = None) -> tuple[bytes | None, bytes, Headers]:
    """Key bytes, JSON value bytes and headers (event_type, schema_version, trace_id)."""
    key_bytes = None if key is None else key.encode("utf-8")
    return key_bytes, event.model_dump_json().encode("utf-8"), event_headers(event)


def event_headers(event: Event) -> Headers:
    """The headers every message carries: event_type, schema_version, trace_id, content-type."""
    return [
        ("event_type", event.event_type.encode()),
        ("schema_version", str(event.schema_version).encode()),
        ("trace_id", event.trace_id.encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]


def encode_for(event: Event, spec: TopicSpec) -> tuple[bytes | None, bytes, Headers]:
    """encode() with the topic's key, refusing an event that does not belong on the topic."""
    return encode(event, key_for(event, spec))


def key_for(event: Event, spec: TopicSpec) -> str:
    """The message key for this event on this topic: the field named by spec.key."""
    if not spec.accepts(event):
        raise TopicMismatchError(f"{event.event_type} does not belong on topic {spec.name}")
    value = getattr(event, spec.key, None)
    if value is None or value == "":
        raise TopicMismatchError(f"{event.event_type} has no {spec.key!r} to key {spec.name}")
    return str(value)


def header(headers: HeadersLike, name: str) -> str | None:
    """One header as text (the last one wins), from any client's header shape."""
    if not headers:
        return None
    # the common shapes first: an ABC check of a list costs more than the scan itself
    items: Iterable[tuple[str, HeaderValue]]
    if isinstance(headers, list | tuple):
        items = headers
    else:
        items = headers.items() if isinstance(headers, Mapping) else headers
    found: str | None = None
    for header_name, value in items:
        if header_name == name and value is not None:
            found = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return found


@overload
def decode(value: bytes | None, headers: HeadersLike, expected: type[E], *, upgrade: bool = ...) -> E: ...
@overload
def decode(
    value: bytes | None, headers: HeadersLike = ..., *, expected: type[E], upgrade: bool = ...
) -> E: ...
@overload
def decode(
    value: bytes | None, headers: HeadersLike = ..., expected: Any = ..., *, upgrade: bool = ...
) -> Event: ...
def decode(
    value: bytes | None, headers: HeadersLike = None, expected: Any = None, *, upgrade: bool = True
) -> Event:
    """Bytes to an event, or SchemaDecodeError naming what is wrong.

    The class comes from event_type and schema_version in the JSON. With ``upgrade`` an
    older version is returned as the newest one of its family, so handlers see one class.
    ``expected`` (a newest class or a union such as ModelLifecycleEvent) restricts what is
    accepted.
    """
    if upgrade and isinstance(expected, type) and issubclass(expected, Event):
        if LATEST[event_type_of(expected)] is not expected:
            # Upgrading would hand back a class the caller did not ask for.
            raise ValueError(f"expected must be the newest version, not {expected.__name__}")
    try:
        return _decode(value, headers, expected, upgrade)
    except SchemaDecodeError:
        raise
    except Exception as exc:  # noqa: BLE001 - any bytes must give the codec's error, nothing else
        raw = bytes(value) if isinstance(value, bytes | bytearray | memoryview) else None
        raise SchemaDecodeError(f"undecodable: {type(exc).__name__}: {exc}", raw=raw) from exc


def _decode(value: bytes | None, headers: HeadersLike, expected: Any, upgrade: bool) -> Event:
    if not value:
        raise SchemaDecodeError("empty message value (a tombstone?)", raw=value)
    try:
        event = ANY_EVENT.validate_json(value)
    except ValidationError as exc:
        raise SchemaDecodeError(describe_errors(exc), raw=bytes(value)) from exc

    missing = [name for name in ENVELOPE_FIELDS if name not in event.model_fields_set]
    if missing:
        raise SchemaDecodeError(
            f"{event.event_type}: missing envelope field(s): {', '.join(missing)}", raw=value
        )
    if expected is not None and not isinstance(event, family_of(expected)):
        names = ", ".join(dict.fromkeys(cls.__name__ for cls in family_of(expected)))
        raise SchemaDecodeError(f"event_type: expected {names}, got {event.event_type}", value)
    for name in ("event_type", "schema_version"):
        claimed = header(headers, name)
        actual = str(getattr(event, name))
        if claimed is not None and claimed != actual:
            raise SchemaDecodeError(f"{name}: header says {claimed!r}, body {actual!r}", value)
    return upgrade_to_latest(event) if upgrade else event


def describe_errors(exc: ValidationError) -> str:
    """One line naming each failing field: 'PlayerRecord: age: Input should be ... (got 60)'."""
    errors = exc.errors(include_url=False)
    parts = [_describe(error) for error in errors[:_MAX_ERRORS]]
    if len(errors) > _MAX_ERRORS:
        parts.append(f"and {len(errors) - _MAX_ERRORS} more error(s)")
    return "; ".join(parts)


def _describe(error: Any) -> str:
    loc = list(error["loc"])
    prefix = ""
    # Strip the union tags pydantic puts in front of the field path.
    if loc and isinstance(loc[0], str) and loc[0] in FAMILIES:
        event_type = loc.pop(0)
        prefix = f"{event_type}: "
        if len(FAMILIES[event_type]) > 1 and loc and isinstance(loc[0], int):
            prefix = f"{event_type} v{loc.pop(0)}: "
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = [str(error.get("ctx", {}).get("discriminator", "")).strip("'")]
    field = ".".join(str(part) for part in loc)
    text = f"{prefix}{field}: {error['msg']}" if field else f"{prefix}{error['msg']}"
    value = error.get("input")
    if error["type"] not in ("missing", "json_invalid") and (
        value is None or isinstance(value, str | int | float | bool)
    ):
        shown = repr(value)
        if len(shown) > _MAX_INPUT_CHARS:
            shown = shown[: _MAX_INPUT_CHARS - 3] + "..."
        text += f" (got {shown})"
    return text
