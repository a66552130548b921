"""/healthz (process up), /readyz (Kafka, Redis and a model ready), /metrics (Prometheus)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ServicesDep
from api.ports import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Kafka, Redis and a model are ready (503 otherwise)")
async def readyz(found: ServicesDep) -> JSONResponse:
    kafka, redis_ok, model = await asyncio.gather(
        asyncio.to_thread(found.readiness.kafka),
        asyncio.to_thread(found.store.ping),
        asyncio.to_thread(_model, found),
    )
    readers = found.readiness.readers()
    checks: dict[str, Any] = {
        "kafka": kafka,
        "redis": redis_ok,
        "model": model is not None,
        "results_reader": readers.get("results", False),
    }
    ready = all(checks.values())
    body = {"ready": ready, "checks": checks, "model_version": model, "readers": readers}
    return JSONResponse(body, status_code=200 if ready else 503)


def _model(found: Services) -> str | None:
    try:
        return found.models.serving_version()
    except Exception:  # noqa: BLE001 - Redis down: the redis check says so
        return None


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(found: ServicesDep) -> Response:
    return Response(generate_latest(found.metrics.registry), media_type=CONTENT_TYPE_LATEST)
