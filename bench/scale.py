"""Scale-out: 1, then 2 (then 4, where the machine has the cores) `mlops-fc worker` processes on
one request stream, in one run.

Each phase sends the same number of requests as fast as the client takes them, once every
worker of the phase has its partitions (the consumer group is stable) and has answered a
warm-up. It prints the aggregate rate, each worker's CPU (user + system, from /proc) over the
phase divided by the requests it scored (its own /metrics count), the partition assignment of
predictions.requests, and whether every request was answered exactly once while all ran. The
CPU per request per worker is the figure that carries to a cluster of separate machines: on
one shared machine the aggregate rate hits the cores, not the design. The last line is JSON
with ``cpu_per_request_ratio_2_vs_1`` and ``throughput_ratio_2_vs_1``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from confluent_kafka import ConsumerGroupState, KafkaError, KafkaException

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, before bench/

from bench.harness import (  # noqa: E402
    ResultCollector,
    clean_up,
    fresh,
    load,
    make_requests,
    produce_all,
    publish_history,
    warmed_producer,
)
from bench.inference import batch_totals, history_events, wait_results  # noqa: E402
from devstack.processes import free_port  # noqa: E402
from devstack.services import Service, start_service  # noqa: E402
from retrainer.initial import train_initial  # noqa: E402
from schemas.records import TransferCompleted  # noqa: E402
from schemas.topics import PREDICTIONS_REQUESTS  # noqa: E402
from stack.kafka_clients import make_admin  # noqa: E402
from stack.settings import Settings  # noqa: E402

SEED = 11
WARM_UP = 300  # requests after each rebalance, answered before a phase starts
GROUP_WAIT_S = 180.0
RESULT_TIMEOUT_S = 300.0
TICK_S = 1 / os.sysconf("SC_CLK_TCK")
# The group's coordinator is loading or moving: ask again (librdkafka marks these non-retriable here).
COORDINATOR_MOVING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
}
Assignment = dict[str, list[int]]  # worker name (or member id, if unknown) -> request partitions


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def assignment(settings: Settings, names: dict[str, str]) -> tuple[bool, Assignment]:
    """(group stable, partitions of predictions.requests by worker) of the workers' group.

    ``names`` maps member ids to worker names: the workers share one client id, but a member
    keeps its id across rebalances, and they join one at a time (see ``join``).
    """
    admin = make_admin(settings)
    group = f"{settings.topic_prefix}{settings.worker_app_id}"
    topic = settings.topic(PREDICTIONS_REQUESTS.name)
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=30)
    except KafkaException as exc:
        if exc.args[0].retriable() or exc.args[0].code() in COORDINATOR_MOVING:
            return False, {}
        raise
    found: Assignment = {}
    for member in description.members:
        parts = member.assignment.topic_partitions if member.assignment else []
        owned = sorted(tp.partition for tp in parts if tp.topic == topic)
        found[names.get(member.member_id, member.member_id)] = owned
    return description.state == ConsumerGroupState.STABLE, found


def wait_for_group(settings: Settings, members: int, names: dict[str, str]) -> Assignment:
    """Poll until ``members`` workers are in a stable group owning every request partition."""
    deadline = time.monotonic() + GROUP_WAIT_S
    partitions = set(range(PREDICTIONS_REQUESTS.partitions or settings.topic_partitions))
    while time.monotonic() < deadline:
        stable, found = assignment(settings, names)
        owned = {p for parts in found.values() for p in parts}
        if stable and len(found) == members and owned == partitions:
            return found
        time.sleep(0.5)  # noqa: sleep-ok - poll interval, bounded by the deadline
    raise RuntimeError(f"the worker group did not settle on {members} members: {assignment(settings, names)}")


def join(settings: Settings, workers: list[Service], name: str, names: dict[str, str]) -> None:
    """Start worker ``name`` and wait for it in the group; its member id is the new one."""
    worker = start_service(settings, name, "worker", "--name", name, "--metrics-port", str(free_port()))
    workers.append(worker)
    known = set(names)
    wait_for_group(settings, len(workers), names)
    new = set(assignment(settings, {})[1]) - known
    if len(new) == 1:
        names[new.pop()] = name


def warm_up(
    settings: Settings, collector: ResultCollector, transfers: list[Any], label: str, worker: Service
) -> None:
    requests = make_requests(settings, transfers, WARM_UP, f"warm-{label}")
    producer = warmed_producer(settings)
    produce_all(producer, requests)
    producer.flush(60)
    wait_results(collector, [rid for *_, rid in requests], f"warm-up {label}", worker)


def run_phase(
    settings: Settings,
    collector: ResultCollector,
    workers: list[Service],
    names: dict[str, str],
    transfers: list[Any],
    count: int,
) -> dict[str, Any]:
    """One measured burst of ``count`` requests through the running workers."""
    n = len(workers)
    before_assignment = wait_for_group(settings, n, names)
    warm_up(settings, collector, transfers, f"{n}w", workers[-1])
    requests = make_requests(settings, transfers, count, f"scale{n}")
    ids = [rid for *_, rid in requests]
    producer = warmed_producer(settings)
    duplicates_before = collector.duplicates
    scored_before = [batch_totals(w)[1] for w in workers]
    cpu_before = [cpu_seconds(w.process.pid) for w in workers]  # type: ignore[union-attr]
    started = time.time()
    produce_all(producer, requests)
    producer.flush(60)
    missing = collector.wait_for_ids(ids, RESULT_TIMEOUT_S)
    cpu = [cpu_seconds(w.process.pid) - c for w, c in zip(workers, cpu_before, strict=True)]  # type: ignore[union-attr]
    scored = [batch_totals(w)[1] - s for w, s in zip(workers, scored_before, strict=True)]
    answered = [rid for rid in ids if rid in collector.results]
    last = max(collector.results[rid].received for rid in answered)
    stable, after_assignment = assignment(settings, names)
    per_worker = [
        {
            "worker": w.name,
            "requests": int(s),
            "cpu_s": round(c, 3),
            "cpu_us_per_request": round(c / s * 1e6, 1) if s else None,
            "rss_mib": round(rss_mib(w.process.pid), 1),  # type: ignore[union-attr]
        }
        for w, c, s in zip(workers, cpu, scored, strict=True)
    ]
    total_scored = sum(scored)
    return {
        "workers": n,
        "requests": count,
        "s": round(last - started, 3),
        "req_per_s": round(len(answered) / (last - started), 1),
        "cpu_us_per_request": round(sum(cpu) / total_scored * 1e6, 1) if total_scored else None,
        "per_worker": per_worker,
        "assignment": before_assignment,
        "assignment_unchanged": stable and after_assignment == before_assignment,
        "missing": len(missing),
        "duplicates": collector.duplicates - duplicates_before,
        "scored_total": int(total_scored),
        "not_ok": sum(collector.results[rid].status != "ok" for rid in answered),
    }


def report(phase: dict[str, Any]) -> None:
    once = phase["missing"] == 0 and phase["duplicates"] == 0 and phase["scored_total"] == phase["requests"]
    print(
        f"{phase['workers']} worker(s): {phase['requests']} requests in {phase['s']:.2f}s = "
        f"{phase['req_per_s']:,.0f} req/s aggregate, {phase['cpu_us_per_request']} us CPU per request  "
        f"[load {load()}]",
        flush=True,
    )
    for item in phase["per_worker"]:
        owned = phase["assignment"].get(item["worker"], "?")
        print(
            f"   {item['worker']}: partitions {owned}, {item['requests']} "
            f"requests, {item['cpu_s']:.2f}s CPU = {item['cpu_us_per_request']} us/request, "
            f"RSS {item['rss_mib']:.0f} MiB"
        )
    print(
        f"   assignment {phase['assignment']} ({'unchanged' if phase['assignment_unchanged'] else 'CHANGED'} "
        f"during the phase); answered exactly once: {'yes' if once else 'NO'} ({phase['missing']} missing, "
        f"{phase['duplicates']} duplicates, {phase['scored_total']} scored, {phase['not_ok']} not ok)",
        flush=True,
    )
    phase["exactly_once"] = once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per phase (default 20000)")
    default_counts = "1,2,4" if (os.cpu_count() or 1) >= 4 else "1,2"
    parser.add_argument(
        "--workers",
        default=default_counts,
        help=f"worker counts, ascending, comma-separated (default here: {default_counts}; 4 needs 4 cores)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench topics and Redis keys")
    args = parser.parse_args()
    counts = [int(c) for c in args.workers.split(",")]
    partitions = PREDICTIONS_REQUESTS.partitions or Settings().topic_partitions
    if counts != sorted(counts) or counts[0] < 1 or counts[-1] > partitions:
        parser.error(f"worker counts must ascend from 1 to at most the {partitions} request partitions")

    print(f"load average at start: {load()} ({os.cpu_count()} cores)", flush=True)
    settings = fresh("scale")
    events = history_events(SEED)
    transfers = [e for e in events if isinstance(e, TransferCompleted)]
    figures: dict[str, Any] = {"prefix": settings.topic_prefix, "cores": os.cpu_count()}
    workers: list[Service] = []
    members: dict[str, str] = {}
    names = [f"{settings.topic_prefix.rstrip('.')}-w{i + 1}" for i in range(counts[-1])]
    collector: ResultCollector | None = None
    phases: list[dict[str, Any]] = []
    try:
        publish_history(settings, events)
        model = train_initial(settings, transfers=transfers)
        print(f"history: {len(transfers)} transfers; model {model.version} serving", flush=True)
        collector = ResultCollector(settings)
        for count in counts:
            while len(workers) < count:
                join(settings, workers, names[len(workers)], members)
            phase = run_phase(settings, collector, workers, members, transfers, args.requests)
            report(phase)
            phases.append(phase)
    finally:
        if collector is not None:
            collector.close()
        for worker in workers:
            worker.stop()
        if not args.keep:
            clean_up(settings, names)
    by_count = {phase["workers"]: phase for phase in phases}
    figures["phases"] = phases
    if 1 in by_count and 2 in by_count:
        one, two = by_count[1], by_count[2]
        cpu_ratio = round(two["cpu_us_per_request"] / one["cpu_us_per_request"], 3)
        figures["cpu_per_request_ratio_2_vs_1"] = cpu_ratio
        figures["throughput_ratio_2_vs_1"] = round(two["req_per_s"] / one["req_per_s"], 3)
        print(
            f"2 vs 1 worker: CPU per request x{cpu_ratio} (target within 10 %), "
            f"aggregate throughput x{figures['throughput_ratio_2_vs_1']} (bounded by this machine's cores)"
        )
    figures["exactly_once"] = all(phase["exactly_once"] for phase in phases)
    figures["load_end"] = load()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
