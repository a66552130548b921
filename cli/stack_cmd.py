"""`mlops-fc stack ...`: run the local Kafka, Redis and MLflow without Docker."""

from __future__ import annotations

import subprocess
import sys

import typer
from rich.console import Console
from rich.table import Table

from cli.preflight import require_kafka
from devstack.local import LocalStack
from stack.exceptions import StackError
from stack.settings import Settings

app = typer.Typer(
    help="Start, stop and inspect the local stack: a real Kafka broker (KRaft), Redis and MLflow.",
    no_args_is_help=True,
)
console = Console()


@app.command()
def up(
    topics: bool = typer.Option(True, help="Also create the topic catalogue (idempotent)."),
) -> None:
    """Start Kafka and Redis (if not running), prepare MLflow and create the topics.

    Safe to run again: parts that are already up are left alone. State lives in
    MLOPS_FC_STATE_DIR (default .mlops-fc/ in the project).
    """
    settings = Settings()
    stack = LocalStack(settings)
    try:
        with console.status("Starting Redis, Kafka (first start fetches its jars) and MLflow..."):
            stack.up()
    except StackError as exc:
        console.print(f"[red]stack up failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    if topics:
        _create_topics(settings)
    _print_status(stack)


@app.command()
def down() -> None:
    """Stop the local Kafka broker and Redis (SIGTERM, then SIGKILL after a grace period)."""
    stopped = LocalStack(Settings()).down()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status() -> None:
    """Show each part with its address and health; exits 1 when any part is down."""
    if not _print_status(LocalStack(Settings())):
        raise typer.Exit(1)


@app.command("topics")
def topics_cmd() -> None:
    """Create the topic catalogue on the configured broker (names, partitions, retention)."""
    _create_topics(require_kafka(Settings()))


@app.command("mlflow-ui")
def mlflow_ui(
    port: int = typer.Option(None, help="Port of the UI (default MLOPS_FC_MLFLOW_UI_PORT)."),
) -> None:
    """Open the MLflow UI on the local tracking database (Ctrl-C stops it)."""
    settings = Settings()
    port = port or settings.mlflow_ui_port
    console.print(f"MLflow UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [
            sys.executable,
            "-m",
            "mlflow",
            "ui",
            "--backend-store-uri",
            settings.mlflow_uri,
            "--default-artifact-root",
            str(settings.mlflow_artifacts),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        check=False,
    )


def _create_topics(settings: Settings) -> None:
    from stack.topic_admin import ensure_topics

    table = Table("topic", "partitions", "action", title="Topics")
    for outcome in ensure_topics(settings):
        table.add_row(outcome.name, str(outcome.partitions), outcome.action)
    console.print(table)


def _print_status(stack: LocalStack) -> bool:
    table = Table("part", "address", "health", "detail", title="Local stack")
    parts = stack.status()
    for part in parts:
        health = "[green]up[/green]" if part.healthy else "[red]down[/red]"
        table.add_row(part.name, part.address, health, part.detail)
    console.print(table)
    return all(part.healthy for part in parts)
