"""`mlops-fc train --initial`: bootstrap a first model."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from cli.preflight import require_kafka
from stack.settings import Settings

console = Console()


def train(
    initial: bool = typer.Option(False, "--initial", help="Train, register and promote a first model."),
    csv: list[Path] = typer.Option(
        None,
        "--csv",
        exists=True,
        dir_okay=False,
        help="Train from these Transfermarkt CSV files instead of transfers.completed.",
    ),
    until_season: int = typer.Option(None, help="Use only transfers of this season or earlier."),
) -> None:
    """Train a first model so the pipeline can start from nothing.

    By default it reads the whole of transfers.completed; with --csv it reads files in the
    format of the Transfermarkt data instead. The model is registered in MLflow, made
    champion, published (signed) to Redis and announced on models.lifecycle.
    Later models come from the retrainer (`mlops-fc retrainer`).
    """
    if not initial:
        console.print("Only --initial is supported here; the retrainer trains challengers.")
        raise typer.Exit(2)
    from retrainer.initial import train_initial

    settings = require_kafka(Settings())
    transfers = None
    if csv:
        from producers.transfermarkt import read_transfers_csv

        transfers = read_transfers_csv(csv).transfers
    with console.status("Building the training set and training..."):
        result = train_initial(settings, transfers=transfers, until_season=until_season)
    console.print(
        f"[green]model {settings.model_name} version {result.version} serves[/green] "
        f"({result.rows} paid transfers; validation {result.metrics})"
    )
