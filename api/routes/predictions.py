"""POST /v1/predictions (and /batch): request-reply over Kafka; GET one by request id."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.deps import ServicesDep
from api.ports import Services
from api.schemas import (
    BatchIn,
    BatchOut,
    Pending,
    PredictionIn,
    Problem,
    RequestId,
    Unconfirmed,
    ValidationProblem,
    location_of,
)
from consumers.exceptions import PublishError
from schemas.predictions import PredictionRequest, PredictionResult

router = APIRouter(prefix="/v1/predictions", tags=["predictions"])
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ValidationProblem},
    503: {"model": Unconfirmed, "description": "Kafka or Redis did not answer: ask again (Retry-After)."},
}


def _requests(bodies: list[PredictionIn]) -> tuple[list[PredictionRequest], bool]:
    """The events to publish, and whether any id came from the caller (then look it up first)."""
    requests = []
    for index, body in enumerate(bodies):
        try:
            requests.append(body.to_request(body.request_id or f"api-{uuid.uuid4()}"))
        except ValidationError as exc:  # the event refuses what the body let through
            loc = ("body",) if len(bodies) == 1 else ("body", "requests", index)
            raise RequestValidationError(
                [{**error, "loc": (*loc, *error["loc"])} for error in exc.errors(include_url=False)]
            ) from exc
    return requests, any(body.request_id for body in bodies)


def _json(result: PredictionResult) -> Response:
    # Serialised once by pydantic-core: the event was validated when it was decoded.
    return Response(result.model_dump_json(), media_type="application/json")


def _pending(request_id: str) -> Pending:
    return Pending(request_id=request_id, location=location_of(request_id))


async def _ask(
    found: Services, bodies: list[PredictionIn]
) -> tuple[list[PredictionRequest], list[PredictionResult | None]]:
    requests, caller_ids = _requests(bodies)
    try:
        timeout = found.settings.api_result_timeout_s
        return requests, await found.predictor.ask_many(requests, timeout, check_store=caller_ids)
    except PublishError as exc:
        # Unconfirmed is not unsent: the ids let the caller ask again without a second result.
        body = Unconfirmed(
            detail=f"Kafka did not confirm the request(s): {exc}. They may still be answered: ask"
            " again with the same request_id (a request_id is answered once).",
            request_ids=[request.request_id for request in requests],
        )
        raise PublishUnconfirmed(body) from exc


class PublishUnconfirmed(Exception):
    """Answered 503 with the Unconfirmed body by the app's handler."""

    def __init__(self, body: Unconfirmed) -> None:
        super().__init__(body.detail)
        self.body = body


async def unconfirmed(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PublishUnconfirmed)
    return JSONResponse(exc.body.model_dump(), status_code=503, headers={"Retry-After": "1"})


@router.post(
    "",
    response_model=PredictionResult,
    summary="Ask for a fee and wait for the answer",
    responses={202: {"model": Pending, "description": "No result in time: poll `location`."}, **ERRORS},
)
async def predict(found: ServicesDep, body: PredictionIn) -> object:
    """Publish a PredictionRequest and return its PredictionResult, read from predictions.results.

    Waits up to MLOPS_FC_API_RESULT_TIMEOUT_S; then answers 202 with the URL to poll. The
    same `request_id` asked twice is published once and answered with the same result.
    """
    requests, results = await _ask(found, [body])
    if results[0] is not None:
        return _json(results[0])
    found.metrics.timeouts.inc()
    pending = _pending(requests[0].request_id)
    return JSONResponse(
        pending.model_dump(), status_code=status.HTTP_202_ACCEPTED, headers={"Location": pending.location}
    )


@router.post(
    "/batch",
    response_model=BatchOut,
    summary="Ask for many fees at once",
    responses={202: {"model": BatchOut, "description": "Some results did not come in time."}, **ERRORS},
)
async def predict_batch(found: ServicesDep, body: BatchIn) -> object:
    """Publish every request at once and wait (one timeout for all) for their results.

    200 when every result came in time, else 202 with the ids still pending and where to poll.
    """
    if len(body.requests) > found.settings.api_batch_max:
        limit = found.settings.api_batch_max
        raise RequestValidationError(
            [{"type": "too_long", "loc": ("body", "requests"), "msg": f"at most {limit} requests per batch"}]
        )
    requests, results = await _ask(found, body.requests)
    answered = [r for r in results if r is not None]
    waiting = [_pending(q.request_id) for q, r in zip(requests, results, strict=True) if r is None]
    if waiting:
        found.metrics.timeouts.inc(len(waiting))
    out = BatchOut(results=answered, pending=waiting)
    code = status.HTTP_202_ACCEPTED if waiting else status.HTTP_200_OK
    return JSONResponse(out.model_dump(mode="json"), status_code=code)


@router.get(
    "/{request_id}",
    response_model=PredictionResult,
    summary="Look up a result by request id",
    responses={202: {"model": Pending}, 404: {"model": Problem}, **ERRORS},
)
async def get_prediction(
    request_id: Annotated[RequestId, Path(description="The request id given or returned by POST.")],
    found: ServicesDep,
) -> object:
    """The stored result (kept MLOPS_FC_RESULT_TTL_S); 202 while this facade still awaits it."""
    result = (await found.store.lookup([request_id])).get(request_id)
    if result is not None:
        return _json(result)
    if found.predictor.pending(request_id):
        pending = _pending(request_id)
        return JSONResponse(
            pending.model_dump(), status_code=status.HTTP_202_ACCEPTED, headers={"Location": pending.location}
        )
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no result for request {request_id!r}")
