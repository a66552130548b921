"""`mlops-fc up` / `down` / `ps` / `logs`: the whole system as supervised background processes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stack.exceptions import StackError
from stack.settings import Settings

console = Console()
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "transfers"


def up(
    workers: int = typer.Option(
        1, "--workers", min=1, max=16, help="Inference workers to run (worker-1..N)."
    ),
    train: bool = typer.Option(False, "--train", help="Train a first model when none serves yet."),
    sink: bool = typer.Option(
        True, help="Also run the result sink (GET /v1/predictions/{id} for any client)."
    ),
) -> None:
    """Start the local stack and every service in the background; return once all are ready.

    Kafka, Redis and MLflow (as `mlops-fc stack up`), then monitor, retrainer, worker-1..N,
    sink and api under one supervisor that restarts a service when it exits (with backoff)
    and counts the restarts (`mlops-fc ps`). Logs, pid and state files live in
    <state_dir>/up/. Running it again with the same options changes nothing.
    """
    from devstack.up import up as start

    settings = Settings()
    try:
        with console.status(f"Starting the stack and {workers + 3 + int(sink)} services..."):
            result = start(settings, workers=workers, sink=sink)
    except StackError as exc:
        console.print(f"[red]up failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print("already up" if result.already_up else "[green]up[/green]: every service is ready")
    version = result.model_version
    if version is None and train:
        version = _train(settings)
    print_rows(result.rows)
    print_urls(settings, [r.name for r in result.rows])
    if version is None:
        console.print(
            "[yellow]no model serves yet[/yellow]: `mlops-fc train --initial` trains one from "
            "transfers.completed (or `mlops-fc up --train` from the data folder)"
        )


def _train(settings: Settings) -> str | None:
    from producers.transfermarkt import csv_files, read_transfers_csv
    from retrainer.initial import train_initial

    files = csv_files([DEFAULT_DATA]) if DEFAULT_DATA.is_dir() else []
    transfers = read_transfers_csv([DEFAULT_DATA]).transfers if files else None
    with console.status("Training a first model..."):
        try:
            result = train_initial(settings, transfers=transfers)
        except Exception as exc:  # noqa: BLE001 - e.g. no transfers at all: say so, stay up
            console.print(f"[red]training failed:[/red] {exc}")
            return None
    console.print(f"[green]model version {result.version} serves[/green] ({result.rows} paid transfers)")
    return str(result.version)


def down() -> None:
    """Stop every service (api first), then Kafka and Redis; nothing is left running."""
    from devstack.up import down as stop

    stopped = stop(Settings())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


def ps() -> None:
    """Each supervised service: state, pid, restarts, readiness; exits 1 when one is not ready."""
    from devstack.up import status

    rows, _ = status(Settings())
    if not rows:
        console.print("nothing runs: `mlops-fc up` starts the system")
        raise typer.Exit(1)
    print_rows(rows)
    if not all(r.ready for r in rows):
        raise typer.Exit(1)


def logs(
    service: str = typer.Argument(..., help="monitor, retrainer, worker-1..N, sink, api or supervisor."),
    follow: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines (Ctrl-C stops)."),
    lines: int = typer.Option(50, "-n", "--lines", min=1, help="How many of the last lines to show."),
) -> None:
    """Show a supervised service's log (its stdout and stderr)."""
    from stack.supervised import up_dir

    base = up_dir(Settings().state_dir)
    path = base / "supervisor.log" if service == "supervisor" else base / "logs" / f"{service}.log"
    if not path.exists():
        known = sorted(p.stem for p in (base / "logs").glob("*.log")) if (base / "logs").is_dir() else []
        console.print(
            f"[red]no log for {service!r}[/red]; known: {', '.join(known) or 'none (run `mlops-fc up`)'}"
        )
        raise typer.Exit(2)
    argv = ["tail", "-n", str(lines), *(["-F"] if follow else []), str(path)]
    try:
        subprocess.run(argv, check=False)  # noqa: S603, S607 - coreutils tail, fixed arguments
    except KeyboardInterrupt:
        pass


def print_rows(rows: list) -> None:  # type: ignore[type-arg]
    table = Table("service", "state", "pid", "restarts", "ready", "detail", title="Services")
    colour = {"running": "green", "restarting": "yellow", "down": "red", "starting": "yellow"}
    for r in rows:
        state = f"[{colour.get(r.state, 'white')}]{r.state}[/]"
        ready = "[green]yes[/green]" if r.ready else "[red]no[/red]"
        table.add_row(r.name, state, str(r.pid or "-"), str(r.restarts), ready, r.detail)
    console.print(table)


def print_urls(settings: Settings, names: list[str]) -> None:
    from devstack.supervisor import Spec
    from stack.supervised import up_dir

    api = api_url(settings)
    console.print(f"flows page  {api}/ui")
    console.print(f"API docs    {api}/docs")
    console.print(f"MLflow UI   `mlops-fc stack mlflow-ui` (then http://127.0.0.1:{settings.mlflow_ui_port})")
    spec = up_dir(settings.state_dir) / "spec.json"
    if spec.exists():
        for service in Spec.read(spec).services:
            if service.metrics_url:
                console.print(f"{service.name:<11} {service.metrics_url}")


def api_url(settings: Settings) -> str:
    from devstack.readiness import local_host

    return f"http://{local_host(settings.api_host)}:{settings.api_port}"
