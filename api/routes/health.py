"""/healthz (the process and its threads are alive), /readyz (it can answer now), /metrics.

/healthz is what compose and Kubernetes restart on: it fails only when a background thread
the facade depends on is dead, which no retry will mend. /readyz fails while Kafka, Redis,
a reader or a model is missing, which the facade waits out on its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.ports import Services

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(description="ok, or failing when a thread is dead (restart the process).")
    threads: dict[str, bool] = Field(description="Each background thread: alive.")


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool] = Field(description="kafka, redis, model (a worker serves one), results_reader.")
    model_version: str | None = Field(description="The Redis current pointer (what was last published).")
    readers: dict[str, bool]
    serving: dict[str, Any] = Field(
        description="The registry's champion, what each live worker serves, and whether they disagree."
    )


@router.get(
    "/healthz",
    summary="The process and its background threads are alive (503 otherwise)",
    response_model=Health,
    responses={503: {"model": Health, "description": "A thread is dead: restart the process."}},
)
async def healthz(found: ServicesDep) -> JSONResponse:
    threads = found.readiness.threads()
    ok = all(threads.values())
    body = Health(status="ok" if ok else "failing", threads=threads)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get(
    "/readyz",
    summary="Kafka, Redis, the readers and a served model are ready (503 otherwise)",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: `checks` says what is missing."}},
)
async def readyz(found: ServicesDep) -> JSONResponse:
    kafka, redis_ok, pointer = await asyncio.gather(
        asyncio.to_thread(found.readiness.kafka),
        asyncio.to_thread(found.store.ping),
        asyncio.to_thread(_pointer, found),
    )
    readers = found.readiness.readers()
    view = found.serving.view
    checks: dict[str, bool] = {
        "kafka": kafka,
        "redis": redis_ok,
        "model": view.serves_model if view.checked_at is not None else pointer is not None,
        "results_reader": readers.get("results", False),
    }
    ready = all(checks.values())
    body = Readiness(
        ready=ready, checks=checks, model_version=pointer, readers=readers, serving=view.to_json()
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


def _pointer(found: Services) -> str | None:
    try:
        return found.models.serving_version()
    except Exception:  # noqa: BLE001 - Redis down: the redis check says so
        return None


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(found: ServicesDep) -> Response:
    return Response(generate_latest(found.metrics.registry), media_type=CONTENT_TYPE_LATEST)
