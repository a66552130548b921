"""The facade end to end: many concurrent callers through a real worker, and schemathesis
against the facade's own OpenAPI spec (no 5xx for anything the spec allows or refuses)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from stack.settings import Settings
from tests.api_helpers import API_KEY, RunningApi, wait_until
from tests.api_stack import body, served_api

pytestmark = pytest.mark.e2e
CALLERS = 200
EXAMPLES = 12  # per operation: ~15 operations on 2 cores


@pytest.fixture(scope="module")
def api(stack_settings: Settings) -> Iterator[RunningApi]:
    # A generous wait: on 2 cores 200 callers at once must get 200s, not 202s.
    with served_api(stack_settings, api_result_timeout_s=120.0) as running:
        with running.client() as http:
            assert wait_until(lambda: http.get("/readyz").status_code == 200, 120), http.get("/readyz").text
        yield running


async def _ask_all(url: str, bodies: list[dict[str, object]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CALLERS, max_keepalive_connections=CALLERS)
    async with httpx.AsyncClient(base_url=url, timeout=180.0, limits=limits) as client:
        return await asyncio.gather(*(client.post("/v1/predictions", json=b) for b in bodies))


def test_200_concurrent_callers_each_get_their_own_result(api: RunningApi) -> None:
    run = uuid.uuid4().hex[:8]
    # Distinct players, clubs and ids: a crossed answer would show in any of them.
    bodies = [body(i, request_id=f"c-{run}-{i:03d}", player_id=f"p7-{i % 200}") for i in range(CALLERS)]
    responses = asyncio.run(_ask_all(api.url, bodies))
    assert [r.status_code for r in responses] == [200] * CALLERS, [
        r.text for r in responses if r.status_code != 200
    ][:3]
    results = [r.json() for r in responses]
    for sent, result in zip(bodies, results, strict=True):
        assert result["request_id"] == sent["request_id"]
        assert result["player_id"] == sent["player_id"]
        assert result["status"] == "ok" and result["model_version"] == "1"
    assert len({r["event_id"] for r in results}) == CALLERS  # one distinct result each
    # Every result is also kept by id.
    with api.client() as http:
        stored = http.post("/v1/predictions/batch", json={"requests": bodies[:50]}).json()
    assert [r["event_id"] for r in stored["results"]] == [r["event_id"] for r in results[:50]]


def test_schemathesis_finds_no_server_errors(api: RunningApi) -> None:
    # Driven by hand (not schemathesis' pytest plugin, which pytest 9 no longer supports):
    # every operation, positive and negative examples, only the "no 5xx" check.
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    failures: dict[str, str] = {}
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot load: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def no_5xx(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=api.url, headers={"X-API-Key": API_KEY}, checks=[not_a_server_error]
            )

        try:
            no_5xx()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    with api.client() as http:
        served = _requests_served(http.get("/metrics").text)
    assert served >= len(operations) * EXAMPLES // 2, f"schemathesis made only {served} calls"
    print(f"schemathesis: {len(operations)} operations, {served} requests served, no 5xx")


def _requests_served(metrics: str) -> int:
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("mlops_fc_api_requests_total{")
        )
    )
