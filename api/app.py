"""The FastAPI app: routes, middleware, error shapes, the /ui page and the start-up wiring."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from api.metrics import ApiMetrics
from api.middleware import BodyLimit, RequestMetrics
from api.ports import Services
from api.routes import health, models, observe, players, predictions
from consumers.exceptions import StoreUnavailable
from stack.heap import freeze_long_lived
from stack.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
DESCRIPTION = """Request-reply predictions over Kafka, lookups of results, players and models,
drift events and the flows of the pipeline. Write endpoints need the `X-API-Key` header.
The flows page is at [/ui](/ui)."""


def _field(loc: tuple[object, ...] | list[object]) -> str:
    return ".".join(str(part) for part in loc)


def _json_safe(value: object) -> object:
    """NaN and infinities as text: JSON has no such numbers (the 422 for NaN was a 500)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


async def _validation_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    fields = [_field(error.get("loc", ())) for error in errors]
    message = "; ".join(
        f"{field}: {error.get('msg', '')}" for field, error in zip(fields, errors, strict=True)
    )
    body = {"detail": _json_safe(jsonable_encoder(errors)), "fields": fields, "message": message}
    return JSONResponse(body, status_code=422)


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # Redis is down: the caller may retry (never a 500 for an outage the facade waits out).
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})


Build = Callable[[Settings, ApiMetrics], AbstractAsyncContextManager[Services]]


def create_app(settings: Settings, build: Build | None = None) -> FastAPI:
    """The app; ``build`` wires the services at start-up (real adapters unless a test passes fakes)."""
    metrics = ApiMetrics()
    if build is None:
        from api.bootstrap import running_services

        build = running_services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build(settings, metrics) as services:
            app.state.services = services
            freeze_long_lived()  # a full collection of the start-up heap would stall requests
            yield

    app = FastAPI(
        title="mlops-fc stream",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(predictions.PublishUnconfirmed, predictions.unconfirmed)
    for router in (predictions.router, players.router, models.router, observe.router, health.router):
        app.include_router(router)

    @app.get("/ui", include_in_schema=False)
    async def ui() -> FileResponse:
        return FileResponse(STATIC / "flows.html", media_type="text/html")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui")

    # Outermost last: metrics see every response, the size limit runs before any body is read.
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.api_cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
            expose_headers=["Location"],
        )
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app
