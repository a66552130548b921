"""What happened: drift events and their reports, the model timeline, the flows of Kafka."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import FileResponse

from api.deps import ServicesDep
from api.ports import Services
from api.schemas import Problem
from consumers.exceptions import UnknownTopicError
from schemas.monitoring import DriftDetected
from stack.exceptions import TopicMissing
from stack.supervised import read_json, run_progress_file, services_view

router = APIRouter(prefix="/v1", tags=["observe"])


def _report_file(found: Services, event_id: UUID) -> Any:
    path = found.reports_dir / f"{event_id}.html"
    return path if path.is_file() else None


def _drift_out(found: Services, event: DriftDetected) -> dict[str, Any]:
    out = event.model_dump(mode="json")
    has_report = _report_file(found, event.event_id) is not None
    out["report_url"] = f"/v1/drift/{event.event_id}/report" if has_report else None
    return out


@router.get("/drift", summary="Recent drift events, newest first, with links to their reports")
async def drift(found: ServicesDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    events = found.replica.events((DriftDetected,), limit)
    return {"events": [_drift_out(found, e) for e in events if isinstance(e, DriftDetected)]}


@router.get(
    "/drift/{event_id}/report",
    summary="The Evidently HTML report of a drift event",
    response_class=FileResponse,
    responses={404: {"model": Problem}, 200: {"content": {"text/html": {}}}},
)
async def drift_report(event_id: Annotated[UUID, Path()], found: ServicesDep) -> FileResponse:
    path = _report_file(found, event_id)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report for drift event {event_id}")
    return FileResponse(path, media_type="text/html")


@router.get("/timeline", summary="Model lifecycle and drift events, newest first")
async def timeline(found: ServicesDep, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    events = found.replica.events(None, limit)
    out = []
    for event in events:
        shown = (
            _drift_out(found, event) if isinstance(event, DriftDetected) else event.model_dump(mode="json")
        )
        out.append(shown)
    return {"events": out, "serving_version": found.replica.serving_version()}


@router.get("/flows", summary="Topics with partitions, end offsets and rates; groups with lag; the graph")
async def flows(found: ServicesDep) -> dict[str, Any]:
    return found.flows.snapshot()


@router.get(
    "/flows/topics/{topic}/messages",
    summary="The latest messages of a topic, decoded",
    responses={404: {"model": Problem}},
)
async def topic_messages(
    found: ServicesDep,
    topic: Annotated[str, Path(description="A catalogue topic, e.g. predictions.results (without prefix).")],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    try:
        shown = await asyncio.to_thread(found.peek, found.settings, topic, limit)
    except (UnknownTopicError, TopicMissing) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    return {"topic": topic, "messages": [s.to_dict() for s in shown]}


@router.get("/services", summary="The services `mlops-fc up` supervises: state and restart count")
async def services(found: ServicesDep) -> dict[str, Any]:
    return services_view(found.settings.state_dir)


@router.get("/run", summary="The main job of this namespace: MAE so far per window, its decisions")
async def run_progress(found: ServicesDep) -> dict[str, Any]:
    body = read_json(run_progress_file(found.settings.state_dir))
    if body is None or body.get("prefix") != found.settings.topic_prefix:
        return {"prefix": found.settings.topic_prefix, "windows": [], "events": []}
    return body
