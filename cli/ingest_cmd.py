"""`mlops-fc ingest csv|stats|synthetic`: put data into Kafka, with a progress bar and a summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.preflight import require_kafka
from stack.kafka_connection import kafka_connection
from stack.settings import Settings

if TYPE_CHECKING:
    from producers.ingest import IngestSummary

T = TypeVar("T")

app = typer.Typer(
    help=(
        "Put data into Kafka the way real users would: Transfermarkt CSV files or the synthetic "
        "generator. Both publish a PlayerRecord and a TransferCompleted per transfer, keyed by "
        "player id, in chronological order."
    ),
    no_args_is_help=True,
)
console = Console()

AS_REQUESTS_HELP = (
    "Also publish a PredictionRequest just before each paid transfer's TransferCompleted (request id "
    "replay-<transfer_id>, asked at the transfer's time): the replay that measures online error."
)
RATE_HELP = "Events per second, all topics together (default: as fast as the broker takes them)."


@app.command("csv")
def csv_command(
    paths: list[Path] = typer.Argument(
        ..., exists=True, help="Transfermarkt CSV files, or folders whose *.csv files are read."
    ),
    seasons: str = typer.Option(
        None, "--seasons", help="Only these seasons (start years, inclusive): 2000-2012, or 2015."
    ),
    max_rows: int = typer.Option(None, "--max-rows", min=1, help="Stop reading after this many data rows."),
    as_requests: bool = typer.Option(False, "--as-requests", help=AS_REQUESTS_HELP),
    rate: float = typer.Option(None, "--rate", min=0.001, envvar="MLOPS_FC_INGEST_RATE", help=RATE_HELP),
    create_topics: bool = typer.Option(True, help="Create missing topics first (idempotent)."),
) -> None:
    """Ingest Transfermarkt transfer lists (the format of data/transfers/*.csv).

    The in-row at the buyer and the out-row at the seller of one transfer become one
    transfer; buyer and seller come from transfer_movement. Free transfers are published with
    fee 0. Loans, ends of loans and unknown or missing fees are left out and counted by
    reason. Rows that cannot be parsed go to the dead-letter topic with their raw text.
    Ctrl-C flushes what was sent and stops.
    """
    from producers.exceptions import CsvFormatError
    from producers.ingest import ingest_csv
    from producers.transfermarkt import parse_season_range

    season_range = _season_range(seasons, parse_season_range)
    settings = _prepare(create_topics)
    with _progress("Publishing CSV events") as progress:
        try:
            summary = _run(
                lambda: ingest_csv(
                    settings,
                    paths,
                    seasons=season_range,
                    max_rows=max_rows,
                    as_requests=as_requests,
                    rate=rate,
                    progress=progress,
                )  # fmt: skip
            )
        except CsvFormatError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    _report(settings, summary)


@app.command("stats")
def stats_command(
    paths: list[Path] = typer.Argument(
        ..., exists=True, help="Understat season files (data/player-stats/*.csv), or folders of them."
    ),
    transfers: list[Path] = typer.Option(
        ...,
        "--transfers",
        exists=True,
        help="The Transfermarkt files (or folders) whose players the rows are matched to: the ones "
        "`ingest csv` publishes. Repeat for several.",
    ),
    max_rows: int = typer.Option(None, "--max-rows", min=1, help="Stop reading after this many data rows."),
    rate: float = typer.Option(None, "--rate", min=0.001, envvar="MLOPS_FC_INGEST_RATE", help=RATE_HELP),
    create_topics: bool = typer.Option(True, help="Create missing topics first (idempotent)."),
) -> None:
    """Ingest players' season records (games, minutes, goals, xG...) as PlayerSeasonStats.

    Each row is resolved to the player id the transfer ingester gives the same player: names
    compared without accents and case, teams through the club aliases learned from the
    transfer files, per season. Rows whose player is ambiguous (namesakes the clubs cannot
    tell apart) or unknown are counted and left out, never guessed. Each season is published
    as known at its end, in time order; rows that cannot be parsed go to the dead-letter
    topic with their raw line.
    """
    from producers.exceptions import CsvFormatError
    from producers.ingest import ingest_stats

    settings = _prepare(create_topics)
    with _progress("Publishing season records") as progress:
        try:
            summary = _run(
                lambda: ingest_stats(
                    settings, paths, transfers, max_rows=max_rows, rate=rate, progress=progress
                )
            )
        except CsvFormatError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    _report(settings, summary)


@app.command("synthetic")
def synthetic_command(
    seed: int = typer.Option(42, help="Random seed: the same seed gives the same events, ids and times."),
    seasons: str = typer.Option("2000-2020", help="Seasons to generate (start years, inclusive)."),
    per_season: int = typer.Option(500, min=1, help="Transfers per season."),
    drift_from_season: int = typer.Option(
        None, help="Shift the distributions from this season on (drift a monitor should notice)."
    ),
    drift_fee_inflation: float = typer.Option(1.6, min=0.01, help="With drift: fees multiplied by this."),
    drift_age_shift: float = typer.Option(2.0, help="With drift: years added to the typical transfer age."),
    drift_league_shift: float = typer.Option(
        0.3, min=0.0, max=1.0, help="With drift: share of transfers moved to --drift-league."
    ),
    drift_league: str = typer.Option(
        None, help="With drift: the league that gains transfers (default: the cheapest)."
    ),
    as_requests: bool = typer.Option(False, "--as-requests", help=AS_REQUESTS_HELP),
    rate: float = typer.Option(None, "--rate", min=0.001, envvar="MLOPS_FC_INGEST_RATE", help=RATE_HELP),
    create_topics: bool = typer.Option(True, help="Create missing topics first (idempotent)."),
) -> None:
    """Generate plausible synthetic transfers and publish them (no CSV needed).

    Clubs in three tiers across five fictional leagues, players who age and retire, fees from
    a log-normal model of tier, league, age, position, quality and season inflation (see
    producers/synthetic_world.py). About one move in five is a free transfer (fee 0).
    """
    from producers.ingest import ingest_synthetic
    from producers.synthetic import DriftSpec
    from producers.transfermarkt import parse_season_range

    first, last = _season_range(seasons, parse_season_range) or (2000, 2020)
    drift = None
    if drift_from_season is not None:
        knobs = {"league": drift_league} if drift_league else {}
        try:
            drift = DriftSpec(
                drift_from_season, fee_inflation=drift_fee_inflation, age_shift=drift_age_shift,
                league_shift=drift_league_shift, **knobs,
            )  # fmt: skip
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    settings = _prepare(create_topics)
    with _progress("Publishing synthetic events") as progress:
        summary = _run(
            lambda: ingest_synthetic(
                settings,
                seed=seed,
                seasons=range(first, last + 1),
                per_season=per_season,
                drift=drift,
                as_requests=as_requests,
                rate=rate,
                progress=progress,
            )  # fmt: skip
        )
    _report(settings, summary)


def _season_range(text: str | None, parse: Callable[[str], tuple[int, int]]) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--seasons") from exc


def _prepare(create_topics: bool) -> Settings:
    settings = require_kafka(Settings())
    if create_topics:
        from stack.topic_admin import ensure_topics

        with console.status(f"Checking topics on {kafka_connection(settings).bootstrap_servers}..."):
            ensure_topics(settings)
    return settings


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _run(ingest: Callable[[], T]) -> T:
    from producers.exceptions import DeliveryError

    try:
        return ingest()
    except DeliveryError as exc:
        console.print(f"[red]delivery failed:[/red] {exc}")
        raise typer.Exit(1) from exc


def _report(settings: Settings, summary: IngestSummary) -> None:
    table = Table("", "count", title=f"Ingest summary ({summary.source})")
    if summary.source == "csv":
        table.add_row("rows read", str(summary.rows_read))
        table.add_row("outside --seasons", str(summary.outside_seasons))
        table.add_row("duplicates removed", str(summary.duplicates_removed))
        for reason, count in sorted(summary.unusable.items()):
            table.add_row(f"unusable: {reason}", str(count))
        table.add_row("dead-lettered (unparseable)", str(summary.dead_lettered))
    if summary.source == "stats":
        table.add_row("rows read", str(summary.rows_read))
        for outcome in ("matched", "ambiguous", "unmatched"):
            table.add_row(f"rows {outcome}", str(summary.stats[outcome]))
        for reason in ("name not found", "club/season not found"):
            table.add_row(f"  unmatched: {reason}", str(summary.stats[f"unmatched: {reason}"]))
        table.add_row("bad rows (dead-lettered)", str(summary.dead_lettered))
    else:
        table.add_row("transfers to publish", str(summary.transfers))
        table.add_row("replay requests to publish", str(summary.requests))
    for name, count in sorted(summary.published.items()):
        table.add_row(f"published to {settings.topic(name)}", str(count))
    table.add_row("events/s (publishing)", f"{summary.events_per_s:,.0f}")
    table.add_row("elapsed (s)", f"{summary.elapsed_s:.1f}")
    console.print(table)
    if summary.interrupted:
        console.print(
            f"[yellow]interrupted: {summary.events_published} of {summary.planned} events published "
            "(all of them confirmed by the broker)[/yellow]"
        )
        raise typer.Exit(130)
