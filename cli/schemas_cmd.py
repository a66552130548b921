"""`mlops-fc schemas ...`: the event contracts, as JSON Schema files and a topic table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from schemas.export import export_json_schemas, stale_json_schemas
from schemas.registry import event_type_of, schema_version_of
from schemas.topics import CATALOGUE

DEFAULT_DIR = Path("docs/schemas")

app = typer.Typer(
    help=(
        "Event contracts: every Kafka message is a versioned pydantic event. Export their "
        "JSON Schemas for other languages and tools, or list which events go on which topic."
    ),
    no_args_is_help=True,
)
console = Console()


@app.command("export")
def export(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder to write <EventType>.v<version>.json into (created if missing).",
            envvar="MLOPS_FC_SCHEMAS_DIR",
            metavar="DIRECTORY",
        ),
    ] = DEFAULT_DIR,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing; exit 1 if the files in DIRECTORY differ from the code (for CI).",
        ),
    ] = False,
) -> None:
    """Write one JSON Schema per event class and version (sorted keys: diff-friendly)."""
    if check:
        stale = stale_json_schemas(directory)
        if stale:
            console.print(f"[red]out of date in {directory}:[/red] {', '.join(stale)}")
            console.print("run `mlops-fc schemas export` to regenerate them")
            raise typer.Exit(1)
        console.print(f"[green]{directory} matches the code[/green]")
        return
    written = export_json_schemas(directory)
    table = Table("file", "bytes", title=f"JSON Schemas written to {directory}")
    for path in written:
        table.add_row(path.name, str(path.stat().st_size))
    console.print(table)


@app.command("list")
def list_topics() -> None:
    """Show each topic with its key and the event types and versions it carries."""
    table = Table("topic", "key", "events (versions)", "description")
    for spec in CATALOGUE:
        events = ", ".join(f"{event_type_of(cls)} v{schema_version_of(cls)}" for cls in spec.event_classes())
        table.add_row(spec.name, spec.key, events, spec.description)
    console.print(table)
