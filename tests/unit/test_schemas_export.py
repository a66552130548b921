"""JSON Schema export: docs/schemas matches the code; the CLI writes and checks it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.schemas_cmd import app
from schemas.export import export_json_schemas, stale_json_schemas
from schemas.registry import EVENT_CLASSES

DOCS = Path(__file__).parents[2] / "docs" / "schemas"


def test_docs_match_the_code(tmp_path: Path) -> None:
    written = export_json_schemas(tmp_path)
    assert len(written) == len(EVENT_CLASSES)
    fresh = {path.name: path.read_text(encoding="utf-8") for path in written}
    docs = {path.name: path.read_text(encoding="utf-8") for path in DOCS.glob("*.json")}
    hint = "docs/schemas is stale: run `mlops-fc schemas export`"
    assert sorted(docs) == sorted(fresh), hint
    for name, content in fresh.items():
        assert docs[name] == content, f"{name}: {hint}"


def test_export_is_deterministic(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in export_json_schemas(tmp_path / "a")]
    second = [p.read_bytes() for p in export_json_schemas(tmp_path / "b")]
    assert first == second
    assert all(content.endswith(b"}\n") for content in first)


def test_exported_schema_requires_the_envelope_and_carries_an_example(tmp_path: Path) -> None:
    schema = json.loads((export_json_schemas(tmp_path)[0]).read_text(encoding="utf-8"))
    assert {"event_id", "occurred_at", "source", "trace_id", "event_type"} <= set(schema["required"])
    assert schema["additionalProperties"] is False and schema["examples"]


def test_stale_files_are_reported(tmp_path: Path) -> None:
    export_json_schemas(tmp_path)
    assert stale_json_schemas(tmp_path) == []
    (tmp_path / "PlayerRecord.v1.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "Gone.v1.json").write_text("{}\n", encoding="utf-8")
    assert stale_json_schemas(tmp_path) == ["Gone.v1.json", "PlayerRecord.v1.json"]


def test_cli_export_and_check(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "PredictionRequest.v2.json" in result.output
    assert runner.invoke(app, ["export", "--check", str(tmp_path / "out")]).exit_code == 0
    assert runner.invoke(app, ["export", "--check", str(tmp_path / "none")]).exit_code == 1
    assert runner.invoke(app, ["list"]).exit_code == 0
    assert "JSON Schema" in runner.invoke(app, ["--help"]).output
