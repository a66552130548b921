"""GET /v1/players/{player_id}: latest record and feature state, from the facade's replica."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.deps import ServicesDep
from api.schemas import PlayerOut, Problem, ShortStr
from schemas.envelope import utc_now
from schemas.predictions import PredictionRequest
from schemas.records import PlayerRecord

router = APIRouter(prefix="/v1/players", tags=["players"])


@router.get("/{player_id}", response_model=PlayerOut, responses={404: {"model": Problem}})
async def get_player(
    found: ServicesDep,
    player_id: Annotated[ShortStr, Path()],
    to_club: Annotated[
        ShortStr | None, Query(description="Buying club for the vector (default: none).")
    ] = None,
) -> PlayerOut:
    """The player's latest record and feature state, folded from players.records and
    transfers.completed with the pipeline's own feature functions, and the vector that a
    request made now, from the player's current club to `to_club`, would be scored with."""
    view = found.replica.player(player_id)
    if view is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no records or transfers of player {player_id!r}"
        )
    record = view.record
    club = record.club if isinstance(record, PlayerRecord) else record.to_club
    at = utc_now()
    request = PredictionRequest(
        source="api",
        request_id="player-view",
        player_id=player_id,
        position=record.position,
        from_club=club,
        to_club=to_club or club,
        season=at.year if at.month >= 7 else at.year - 1,
        window="summer" if at.month in (6, 7, 8, 9) else "winter",
        requested_at=at,
    )
    return PlayerOut(
        player_id=player_id,
        record=record.model_dump(mode="json"),
        transfers=view.transfers,
        season_records=[stats.model_dump(mode="json") for stats in view.seasons],
        state=view.state,
        features=found.replica.features_for(request),
        features_for={
            "from_club": request.from_club,
            "to_club": request.to_club,
            "position": request.position,
            "season": request.season,
            "window": request.window,
            "requested_at": at.isoformat(),
        },
    )
