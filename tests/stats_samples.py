"""Understat-format season rows and hand-made transfers for the stats tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from schemas.records import TransferCompleted

STATS_HEADER = (
    "id,player_name,team_title,league,season,year,position,primary_position,games,time,goals,assists,"
    "npg,xG,xA,npxG,shots,key_passes,xGChain,xGBuildup,yellow_cards,red_cards"
)
STATS_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "player-stats" / "understat-2014-2024.csv"
)


def stats_row(
    source_id: int,
    name: str,
    team: str,
    season: int,
    minutes: int = 2700,
    goals: int = 10,
    league: str = "EPL",
    position: str = "F",
) -> str:
    return (
        f"{source_id},{name},{team},{league},{season}/{(season + 1) % 100:02d},{season},F S,{position},"
        f"30,{minutes},{goals},5,{goals},9.5000,4.2500,9.5000,60,30,15.0000,5.0000,3,0"
    )


def write_stats(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([STATS_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def transfer(
    player_id: str,
    name: str,
    from_club: str,
    to_club: str,
    season: int,
    fee: float = 10.0,
    window: str = "summer",
    transfer_id: str | None = None,
    age: int = 25,
) -> TransferCompleted:
    at = (
        datetime(season, 7, 15, tzinfo=UTC) if window == "summer" else datetime(season + 1, 1, 15, tzinfo=UTC)
    )
    return TransferCompleted(
        source="test",
        transfer_id=transfer_id or f"t-{player_id}-{season}-{window}",
        player_id=player_id,
        player_name=name,
        age=age,
        position="Centre-Forward",
        from_club=from_club,
        to_club=to_club,
        season=season,
        window=window,  # type: ignore[arg-type]
        transferred_at=at,
        fee_eur_m=fee,
    )
