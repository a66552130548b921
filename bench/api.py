"""REST facade latency: POST /v1/predictions through Kafka and a real worker, at fixed offered
rates, next to GET /healthz measured in the same run.

On a fresh topic prefix of the local stack (started if it is not running): a transfer
history, a first model, one `mlops-fc worker` and one `mlops-fc api`, each its own process as
a user would run them. Then, for each offered rate (default 200 and 500 requests/s, 10 s
each, so a bounded count, after one second at that rate to warm the client's keep-alive
pool, as any long-running client has it warm), an open-loop sender starts request i at
t0 + i/rate whatever the earlier ones do, and a prober asks GET /healthz 20 times a second
meanwhile. Latency counts from the scheduled start, so a stalled server cannot hide its queue (no coordinated
omission). The client, the facade, the worker, Kafka and Redis share this machine's cores.

    .venv/bin/python bench/api.py [--rates 200 500] [--seconds 10] [--keep]

Target (issue 6): p99 at most 50 ms at 200 req/s. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, before bench/

from bench.harness import quiet_gc  # noqa: E402
from devstack.local import LocalStack  # noqa: E402
from devstack.processes import free_port  # noqa: E402
from devstack.services import Service, start_service  # noqa: E402
from retrainer.initial import train_initial  # noqa: E402
from schemas.topics import TRANSFERS_COMPLETED  # noqa: E402
from stack.kafka_clients import make_admin
from stack.kafka_connection import kafka_connection
from stack.settings import Settings  # noqa: E402
from stack.topic_admin import ensure_topics  # noqa: E402
from tests.flow_helpers import history, publish  # noqa: E402

HEALTH_EVERY_S = 0.05
START_TIMEOUT_S = 180.0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def body(i: int, run: str) -> dict[str, Any]:
    return {
        "request_id": f"bench-{run}-{i:06d}",
        "player_id": f"p7-{i % 400}",
        "position": "Centre-Back",
        "from_club": f"Club {i % 24:02d}",
        "to_club": f"Club {(i + 5) % 24:02d}",
        "season": 2016,
        "window": "summer",
    }


async def measure(url: str, rates: list[int], seconds: float, run: str) -> dict[int, dict[str, Any]]:
    """Each rate after one second of warm-up at that rate, on one keep-alive connection pool.

    A client that opens its connections in the measured window times its own TCP set-up: the
    first 20 requests of a fresh pool took 55-133 ms where the worker spent 13-44 ms, and 20
    requests are the p99 of 2,000.
    """
    connector = aiohttp.TCPConnector(limit=0)
    results: dict[int, dict[str, Any]] = {}
    async with aiohttp.ClientSession(url, connector=connector) as session:
        await offered_rate(session, 50, 2.0, f"{run}-warm")  # first batches: cold caches
        for rate in rates:
            await offered_rate(session, rate, 1.0, f"{run}-{rate}-warm")
            with quiet_gc():
                results[rate] = await offered_rate(session, rate, seconds, f"{run}-{rate}")
    return results


async def offered_rate(session: aiohttp.ClientSession, rate: int, seconds: float, run: str) -> dict[str, Any]:
    count = int(rate * seconds)
    latencies: list[float] = []
    health: list[float] = []
    statuses: dict[str, int] = {}
    late_starts: list[float] = []
    worker_ms: list[float] = []  # request's broker timestamp to result, as the worker measured it
    facade_ms: list[float] = []  # request received to response started, from Server-Timing
    t0 = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        scheduled = t0 + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        late_starts.append((time.perf_counter() - scheduled) * 1000)
        try:
            async with session.post("/v1/predictions", json=body(i, run)) as response:
                payload = await response.json()
                code = str(response.status)
                if response.status == 200 and payload["request_id"] != f"bench-{run}-{i:06d}":
                    code = "crossed"
                if response.status == 200 and "total" in payload["timings"]:
                    worker_ms.append(payload["timings"]["total"])
                timing = response.headers.get("server-timing", "")
                if response.status == 200 and timing.startswith("app;dur="):
                    facade_ms.append(float(timing.removeprefix("app;dur=")))
        except aiohttp.ClientError as exc:
            code = type(exc).__name__
        statuses[code] = statuses.get(code, 0) + 1
        if code == "200":
            latencies.append((time.perf_counter() - scheduled) * 1000)

    async def probe() -> None:
        end = t0 + seconds
        n = 0
        while (scheduled := t0 + n * HEALTH_EVERY_S) < end:
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            started = time.perf_counter()
            async with session.get("/healthz") as response:
                await response.read()
            health.append((time.perf_counter() - started) * 1000)
            n += 1

    started = time.perf_counter()
    await asyncio.gather(probe(), *(one(i) for i in range(count)))
    elapsed = time.perf_counter() - started
    return {
        "offered_rps": rate,
        "requests": count,
        "achieved_rps": round(statuses.get("200", 0) / elapsed, 1),
        "statuses": statuses,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "client_late_start_p99_ms": percentile(late_starts, 0.99),
        "facade_p50_ms": percentile(facade_ms, 0.50),
        "facade_p99_ms": percentile(facade_ms, 0.99),
        "worker_total_p50_ms": percentile(worker_ms, 0.50),
        "worker_total_p99_ms": percentile(worker_ms, 0.99),
        "healthz_p50_ms": percentile(health, 0.50),
        "healthz_p99_ms": percentile(health, 0.99),
    }


def wait_ready(url: str, services: list[Service]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for service in services:
            if not service.alive():
                raise SystemExit(f"{service.name} died:\n{service.log_tail()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the facade was not ready in {START_TIMEOUT_S}s:\n{services[-1].log_tail()}")


def clean_up(settings: Settings) -> None:

    from stack.redis_clients import redis_client

    admin = make_admin(settings)
    names = [n for n in admin.list_topics(timeout=30).topics if n.startswith(settings.topic_prefix)]
    for future in admin.delete_topics(names, operation_timeout=30).values() if names else ():
        future.exception()
    redis = redis_client(settings)
    keys = list(redis.scan_iter(match=f"{settings.topic_prefix}*"))
    if keys:
        redis.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="Keep the bench topics and Redis keys.")
    args = parser.parse_args()

    base = Settings()
    stack = LocalStack(base)
    if not stack.kafka.is_healthy() or not stack.redis.is_healthy():
        print(f"starting the local stack ({kafka_connection(base).bootstrap_servers})...", flush=True)
        stack.up()
    run = f"{time.strftime('%H%M%S')}-{uuid.uuid4().hex[:6]}"
    settings = base.model_copy(
        update={"topic_prefix": f"bench-api-{run}.", "api_port": free_port(), "api_result_timeout_s": 10.0}
    )
    ensure_topics(settings)
    transfers = history(1200)
    publish(settings, TRANSFERS_COMPLETED, transfers)
    model = train_initial(settings, transfers=transfers)
    print(f"model v{model.version} on {len(transfers)} transfers; prefix {settings.topic_prefix}", flush=True)
    logs = settings.state_dir / "logs" / f"bench-api-{run}"
    metrics_port = str(free_port())
    worker = start_service(
        settings, "worker", "worker", "--name", f"bench-{run}", "--metrics-port", metrics_port, log_dir=logs
    )
    api = start_service(settings, "api", "api", "--loglevel", "warning", log_dir=logs)
    url = f"http://127.0.0.1:{settings.api_port}"
    figures: dict[str, Any] = {"bench": "api", "cores": os.cpu_count(), "seconds_per_rate": args.seconds}
    try:
        wait_ready(url, [worker, api])
        for rate, result in asyncio.run(measure(url, args.rates, args.seconds, run)).items():
            print(
                f"{rate:>4} req/s offered: {result['achieved_rps']:>6} ok/s  p50 {result['p50_ms']} ms  "
                f"p99 {result['p99_ms']} ms  max {result['max_ms']} ms  "
                f"(in the facade p50 {result['facade_p50_ms']} p99 {result['facade_p99_ms']} ms, of which "
                f"the worker p50 {result['worker_total_p50_ms']} p99 {result['worker_total_p99_ms']} ms)  "
                f"statuses {result['statuses']}  |  "
                f"/healthz p50 {result['healthz_p50_ms']} ms p99 {result['healthz_p99_ms']} ms",
                flush=True,
            )
            figures[f"rate_{rate}"] = result
        figures["load_1m"] = round(os.getloadavg()[0], 2)
        at_200 = figures.get("rate_200", {}).get("p99_ms")
        figures["target_p99_50ms_at_200"] = None if at_200 is None else at_200 <= 50
    finally:
        api.stop()
        worker.stop()
        if not args.keep:
            clean_up(settings)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
