"""The registry: versions with metrics, the champion, promotion and rollback (API key)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, status

from api.deps import ServicesDep, require_api_key
from api.ports import Services
from api.schemas import ModelAction, Problem
from consumers.lineage import lineage
from consumers.replica import TIMELINE_SIZE
from modelstore.exceptions import ArtifactNotFoundError, ModelStoreError, PromotionRefusedError

router = APIRouter(prefix="/v1/models", tags=["models"])
Version = Path(pattern=r"^[1-9][0-9]{0,8}$", description="A registered version, e.g. 3.")
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem},
    404: {"model": Problem},
    409: {"model": Problem},
    503: {"model": Problem},
}


@router.get("", summary="Registered versions with metrics; which one is champion")
async def list_models(found: ServicesDep) -> dict[str, Any]:
    versions = await asyncio.to_thread(found.models.versions)
    champion = next((v["version"] for v in versions if v.get("champion")), None)
    return {"champion": champion, "versions": versions}


@router.get(
    "/current",
    summary="The champion, the Redis pointer and what the workers serve",
    responses={404: {"model": Problem}, 503: {"model": Problem}},
)
async def current_model(found: ServicesDep) -> dict[str, Any]:
    """`serving` holds each live worker's version (its heartbeat) and `disagreement`: true when
    workers have served another version than the champion for longer than the grace."""
    current = await asyncio.to_thread(found.models.current)
    if current is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail="no model promoted yet: `mlops-fc train --initial`"
        )
    return {**current, "serving": found.serving.view.to_json()}


@router.get(
    "/shadow",
    summary="The model scoring in shadow: version, role, since when, labelled pairs so far",
    responses={503: {"model": Problem}},
)
async def shadow_model(found: ServicesDep) -> dict[str, Any]:
    """`shadow` is null when no model scores in shadow; else `role` is `challenger` (waiting for
    its verdict on the real fees) or `guard` (the champion before the last promotion), and
    `pairs` the requests labelled and scored by both so far (the shadow judge's evidence)."""
    return {"shadow": await asyncio.to_thread(found.models.shadow)}


@router.get(
    "/{version}",
    summary="One version: its label health and its lineage (drift event, run, verdict, serving)",
    responses={404: {"model": Problem}, 503: {"model": Problem}},
)
async def model_version(found: ServicesDep, version: Annotated[str, Version]) -> dict[str, Any]:
    """`health`: requests answered, labels received and their share, label delay p50/p90, live
    MAE and interval coverage, as the drift monitor measured them (null before any result).
    `drift_event` -> `training_run` -> `mlflow_version` -> `verdict` -> `steps` (shadow,
    promotion, rejection, rollbacks) tell why the version exists and what became of it."""
    detail = await asyncio.to_thread(found.models.version_detail, version)
    if detail is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"model version {version} is not registered (GET /v1/models lists the versions)",
        )
    registered, params = detail
    health = (await asyncio.to_thread(found.label_health)).get(version)
    timeline = found.replica.events(None, TIMELINE_SIZE)[::-1]  # oldest first
    return lineage(version, registered, params, timeline, health)


async def _change(action: str, found: Services, version: str, reason: str) -> dict[str, Any]:
    change = found.models.promote if action == "promote" else found.models.rollback
    try:
        return await asyncio.to_thread(change, version, reason)
    except ArtifactNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except PromotionRefusedError as exc:  # the artifact failed verification; nothing was moved
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except (ModelStoreError, ValueError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc


@router.post(
    "/{version}/promote",
    summary="Serve this version now",
    dependencies=[Depends(require_api_key)],
    responses=WRITE_ERRORS,
)
async def promote(
    found: ServicesDep,
    version: Annotated[str, Version],
    body: Annotated[ModelAction | None, Body()] = None,
) -> dict[str, Any]:
    """Signed blob to Redis, `champion` alias, ModelPromoted on models.lifecycle: workers swap.

    The artifact is verified first (signature, digest, name and version, a smoke prediction):
    409 and nothing moved if it would not serve.
    """
    return await _change("promote", found, version, (body or ModelAction()).reason)


@router.post(
    "/{version}/rollback",
    summary="Go back to this earlier version",
    dependencies=[Depends(require_api_key)],
    responses=WRITE_ERRORS,
)
async def rollback(
    found: ServicesDep,
    version: Annotated[str, Version],
    body: Annotated[ModelAction | None, Body()] = None,
) -> dict[str, Any]:
    """ModelRolledBack from the champion to this version: workers swap back (409: no champion)."""
    return await _change("rollback", found, version, (body or ModelAction()).reason)
