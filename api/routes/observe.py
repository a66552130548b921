"""What happened: drift events and their reports, the model timeline, the flows of Kafka."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
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
# An Evidently report takes seconds to write (tens under load); after this, it is not coming.
REPORT_WRITE_GRACE_S = 300.0
REPORT_RETRY_AFTER_S = 5


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
    """404 until the file is there; the detail says why (being written: ``Retry-After``)."""
    path = _report_file(found, event_id)
    if path is None:
        detail, headers = _why_no_report(found, event_id)
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail, headers=headers)
    return FileResponse(path, media_type="text/html")


def _why_no_report(found: Services, event_id: UUID) -> tuple[str, dict[str, str] | None]:
    event = found.replica.drift(str(event_id))
    if event is None:
        return f"no drift event {event_id} (or not read from monitoring.drift yet)", None
    if event.report_uri is None:
        kind = event.kind
        return f"drift event {event_id} ({kind} drift) has no report: only feature drift writes one", None
    # The monitor sends the event first and writes its HTML beside the loop (monitoring/reports.py).
    age_s = (datetime.now(UTC) - event.occurred_at).total_seconds()
    if age_s < REPORT_WRITE_GRACE_S:
        detail = f"the report of drift event {event_id} is being written ({age_s:.0f} s after the event)"
        return detail, {"Retry-After": str(REPORT_RETRY_AFTER_S)}
    keep = found.settings.drift_reports_keep
    return (
        f"the report of drift event {event_id} is not there: the monitor keeps the newest {keep}"
        " (MLOPS_FC_DRIFT_REPORTS_KEEP), or its writing failed (see the monitor's log)",
        None,
    )


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
