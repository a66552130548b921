"""JSON Schema export: one file per event class and version, deterministic output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.envelope import Event
from schemas.examples import example_of
from schemas.registry import EVENT_CLASSES, event_type_of, schema_version_of

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_filename(cls: type[Event]) -> str:
    """'PredictionRequest.v2.json' for PredictionRequest version 2."""
    return f"{event_type_of(cls)}.v{schema_version_of(cls)}.json"


def json_schema_of(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one event class (what consumers accept), with an example."""
    schema = cls.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = schema_filename(cls)
    schema["examples"] = [example_of(cls).model_dump(mode="json")]
    return schema


def render_json_schemas() -> dict[str, str]:
    """File name -> file content for every event class and version."""
    return {
        schema_filename(cls): json.dumps(json_schema_of(cls), indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
        for cls in EVENT_CLASSES
    }


def export_json_schemas(directory: Path) -> list[Path]:
    """Write every schema into directory (created if needed); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in sorted(render_json_schemas().items()):
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def stale_json_schemas(directory: Path) -> list[str]:
    """Names of files in directory that are missing, differ from the code, or are extra."""
    rendered = render_json_schemas()
    on_disk = {path.name for path in directory.glob("*.json")} if directory.is_dir() else set()
    differ = [
        name
        for name, content in rendered.items()
        if name not in on_disk or (directory / name).read_text(encoding="utf-8") != content
    ]
    return sorted([*differ, *(on_disk - rendered.keys())])
