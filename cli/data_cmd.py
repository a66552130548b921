"""`mlops-fc data fetch`: the real public data, for a machine without ../shared/data."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from stack.settings import Settings

app = typer.Typer(
    help="Download the real data the project runs on (pinned, checksummed).", no_args_is_help=True
)
console = Console()


@app.command("fetch")
def fetch_command(
    leagues: str = typer.Option(
        None,
        "--leagues",
        help="Comma-separated Transfermarkt leagues (default: the six the project uses): "
        "1-bundesliga, championship, eredivisie, liga-nos, ligue-1, premier-league, premier-liga, "
        "primera-division, serie-a.",
    ),
    stats: bool = typer.Option(True, help="Also fetch the Understat season records (2014/15-2024/25)."),
    dest: Path = typer.Option(None, "--dest", help="Where to put them (default: <state dir>/data)."),
) -> None:
    """Download the Transfermarkt transfers (github.com/ewenme/transfers) and the Understat
    season records (github.com/vibedatascience/understat_players_aggregated), each pinned to
    a commit and checked against the SHA-256 kept in the repository.

    Files land in DEST/transfers/ and DEST/player-stats/. An interrupted download resumes
    where it stopped; a file that does not match its checksum is deleted, never used; files
    already in place are not fetched again.
    """
    from producers.fetch import FetchError, fetch_data
    from producers.sources import DEFAULT_LEAGUES, STATS_FILE, transfer_source

    settings = Settings()
    names = DEFAULT_LEAGUES if leagues is None else tuple(n.strip() for n in leagues.split(",") if n.strip())
    try:
        sources = [transfer_source(name) for name in names]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--leagues") from exc
    data_dir = dest or settings.state_dir / "data"
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, object] = {}

        def progress(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)  # type: ignore[arg-type]

        try:
            fetched = fetch_data(
                data_dir, settings.data_transfers_url, settings.data_stats_url, sources,
                STATS_FILE if stats else None, progress,
            )  # fmt: skip
        except FetchError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    table = Table("file", "status", "bytes", title=f"Data in {data_dir}")
    for item in fetched:
        table.add_row(item.source.target, item.status, f"{item.size:,}")
    console.print(table)
