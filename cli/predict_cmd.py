"""`mlops-fc predict`: ask for one fee and print the answer."""

from __future__ import annotations

import uuid

import typer
from rich.console import Console
from rich.table import Table

from cli.preflight import require_kafka
from stack.settings import Settings

console = Console()


def predict(
    player_id: str = typer.Option(..., help="The player's id (as in players.records), e.g. p-1a2b..."),
    from_club: str = typer.Option(..., help="The selling club."),
    to_club: str = typer.Option(..., help="The buying club."),
    position: str = typer.Option(..., help="Centre-Back, Left Winger, ... or an alias (CB, attack)."),
    season: int = typer.Option(..., help="Season start year: 2023 for 2023/24."),
    window: str = typer.Option(..., help="Transfer window: summer or winter."),
    age: int = typer.Option(None, min=15, max=45, help="Age at the transfer, if known."),
    player_name: str = typer.Option(None, help="The player's name (shown in results only)."),
    league: str = typer.Option(None, help="The buying club's league, if known."),
    timeout: float = typer.Option(30.0, min=0.1, help="Seconds to wait for the result."),
) -> None:
    """Publish one PredictionRequest and print its PredictionResult.

    Needs a running inference worker (`mlops-fc worker`) and a model. Exits 0 with a fee,
    1 when no fee came back: a timeout (no worker?) or a result without a fee (no model yet,
    or an error, which is printed).
    """
    from producers.exceptions import ProducerError
    from producers.requests import request_prediction
    from schemas.envelope import utc_now
    from schemas.exceptions import UnknownPositionError
    from schemas.positions import normalise_position
    from schemas.predictions import PredictionRequest

    if window.casefold() not in ("summer", "winter"):
        raise typer.BadParameter("window must be summer or winter", param_hint="--window")
    try:
        canonical = normalise_position(position)
    except UnknownPositionError as exc:
        raise typer.BadParameter(str(exc), param_hint="--position") from exc
    try:
        request = PredictionRequest(
            request_id=f"cli-{uuid.uuid4()}", player_id=player_id, player_name=player_name, age=age,
            position=canonical, from_club=from_club, to_club=to_club, league=league, season=season,
            window=window.casefold(), requested_at=utc_now(), source="cli.predict",  # type: ignore[arg-type]
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc

    settings = require_kafka(Settings())
    try:
        with console.status(f"Waiting up to {timeout:.0f}s for the result of {request.request_id}..."):
            result = request_prediction(settings, request, timeout)
    except ProducerError as exc:
        console.print(f"[red]the request was not delivered:[/red] {exc}")
        raise typer.Exit(1) from exc
    if result is None:
        console.print(
            f"[red]no result within {timeout:.0f}s[/red] for {request.request_id}: is a worker running "
            "(`mlops-fc worker`) and reading " + settings.topic("predictions.requests") + "?"
        )
        raise typer.Exit(1)
    table = Table("", "", title=f"Prediction {result.request_id}", show_header=False)
    table.add_row("status", result.status)
    if result.predicted_fee_eur_m is not None:
        table.add_row("fee", f"€{result.predicted_fee_eur_m:,.2f}m")
    if result.interval_low is not None and result.interval_high is not None:
        table.add_row("interval", f"€{result.interval_low:,.2f}m - €{result.interval_high:,.2f}m")
    table.add_row("model", f"{result.model_name} v{result.model_version or '-'}")
    for name, millis in result.timings.items():
        table.add_row(f"{name} (ms)", f"{millis:.1f}")
    if result.error:
        table.add_row("error", result.error)
    console.print(table)
    if result.status != "ok":
        raise typer.Exit(1)
