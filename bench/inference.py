"""Inference worker: throughput against a plain passthrough, latency at a fixed rate, hot swap.

On the local stack (started if it is not running), in a fresh topic namespace: a synthetic
history is published and a first model trained on it (version 1), then one `mlops-fc
worker` subprocess serves five measurements in one run:

a. throughput: N requests (encoded up front) produced as fast as the client takes them;
   time from the first send to the last of the N results consumed, and the steady rate
   over the middle 80% of results (start-up and tail are fixed costs that otherwise make
   the rate depend on N: the passthrough measured 11k msg/s with 20,000 and 25k with 60,000);
b. passthrough: the very same request bytes through a bare confluent-kafka
   consume-and-produce loop (a child process of this script, as the worker is one; same
   producer settings), timed the same way; then the ratio worker / passthrough of the
   steady rates (the end-to-end ratio next to it). For scale, the same bytes through the
   Faust floor (bench/faust_floor.py: a Faust agent set up like the worker that forwards
   each request unchanged), so the part Faust itself takes is measured in the same run.
   Next to each rate, the CPU per request (the process's user+system CPU over the phase
   divided by the requests; bench/cpu.py): throughput moves with the machine's load, CPU
   per request far less, and it decides how many cores a deployment needs. Then our own
   steps alone (bench/ours_alone.py: decode, predict, result, encode on the same requests
   in batches of the worker's mean size, no Faust): floor + these over the floor is the
   lowest worker / floor CPU ratio reachable with every other cost of ours gone;
p. profile: the throughput run again with py-spy sampling the worker (bench/profile_split.py,
   when py-spy is installed): its CPU split into decode, state, vector, predict, result,
   encode, produce, the rest of ours, and Faust (with aiokafka and the event loop);
c. latency at a fixed offered rate (default 1,000/s for 10 s, sent with linger 1 ms as the
   REST facade sends): result consumed time minus request send time, by request id,
   p50/p90/p99/max and the worker's CPU per request; the worker's own share of it
   (request timestamp to result built) and the part of that spent queued before its batch
   started next to it, with the worker's batches per second and their mean size (from its
   /metrics);
e. shadow (issue 16): the throughput run without a model in shadow, then a second model
   (trained on another history) shadowed as the retrainer shadows a challenger, and the
   same run with every batch scored by both: throughput and CPU per request of each, and
   every request's shadow result checked on predictions.shadow; the slot is emptied after;
d. hot swap: requests flow at a steady rate, a second model is trained on another history
   and promoted (retrainer.initial.train_initial, in a child process); time from the
   promotion (train_initial returned, i.e. ModelPromoted delivered) to the first result
   that carries the new version, and the failed (status != ok) or missing results.

    .venv/bin/python bench/inference.py [--requests 20000] [--rate 1000] [--seconds 10] [--latency-runs 1]
                                        [--swap-rate 200] [--keep]
                                        [--phases throughput,profile,latency,shadow,swap]

Targets: worker >= 25% of the passthrough; worker >= 70% of the Faust floor end to end and
its CPU per request <= 1.3 times the floor's per message (issue 17); p99 <= 50 ms at
1,000/s; swap within 1 s with zero failed requests. The machine has 2 cores shared with
whatever else runs: the load average is printed next to each figure. Last line: one JSON
object with all figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import NewTopic
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, before bench/

from bench import faust_floor, profile_split, shadow_slot  # noqa: E402
from bench.cpu import CpuMeter  # noqa: E402
from bench.harness import (  # noqa: E402
    Encoded,
    PacedSender,
    ResultCollector,
    clean_up,
    fresh,
    load,
    load_1m,
    make_requests,
    percentile,
    produce_all,
    publish_history,
    quiet_gc,
    steady_rate,
    warmed_producer,
)
from bench.ours_alone import ours_alone  # noqa: E402
from devstack.processes import free_port  # noqa: E402
from devstack.services import Service, start_service  # noqa: E402
from producers.synthetic import generate  # noqa: E402
from retrainer.initial import train_initial  # noqa: E402
from schemas.records import TransferCompleted  # noqa: E402
from schemas.topics import MODELS_LIFECYCLE, PREDICTIONS_SHADOW  # noqa: E402
from stack.kafka_clients import connect, make_admin, make_producer, producer_config  # noqa: E402
from stack.kafka_connection import kafka_connection
from stack.settings import Settings  # noqa: E402

HISTORY_SEASONS = range(2012, 2020)
HISTORY_PER_SEASON = 500
FIRST_SEED, SECOND_SEED = 11, 12
WARM_UP = 500
SWAP_MAX_S = 300  # requests encoded for the swap phase: this many seconds' worth
RESULT_TIMEOUT_S = 300.0
TARGET_RATIO, TARGET_P99_MS, TARGET_SWAP_S = 0.25, 50.0, 1.0
TARGET_CPU_RATIO, TARGET_FLOOR_RATE = 1.3, 0.7  # issue 17: worker CPU / floor CPU, worker rate / floor rate


def history_events(seed: int) -> list[Any]:
    return list(generate(seed, HISTORY_SEASONS, HISTORY_PER_SEASON))


# --- b. the passthrough: runs in a child process -----------------------------------------


def passthrough(
    config: dict[str, Any], source: str, target: str, partitions: int, count: int, warm_topic: str, ready: Any
) -> None:
    """Consume ``count`` messages from ``source`` and produce each, unchanged, to ``target``."""
    consumer = Consumer(
        {
            "bootstrap.servers": config["bootstrap.servers"],
            "group.id": f"bench-passthrough-{time.time_ns()}",
            "isolation.level": "read_committed",
        }
    )
    consumer.assign([TopicPartition(source, p, OFFSET_BEGINNING) for p in range(partitions)])
    producer = Producer(config)
    connect(producer, 10.0)  # as make_producer does for the worker's results producer
    producer.produce(warm_topic, b"warm-up")  # as warmed_producer: its producer id is there
    producer.flush(30)
    ready.set()
    done = 0
    while done < count:
        first = consumer.poll(0.1)
        if first is None:
            continue
        for message in [first, *consumer.consume(num_messages=999, timeout=0)]:
            if message.error() is not None:
                continue
            while True:
                try:
                    producer.produce(target, message.value(), message.key(), headers=message.headers())
                    break
                except BufferError:
                    producer.poll(0.01)
            done += 1
        producer.poll(0)
    producer.flush(60)
    consumer.close()


def run_passthrough(settings: Settings, messages: list[Encoded]) -> dict[str, float]:
    """The same bytes through a bare confluent-kafka consume-and-produce loop."""
    return run_baseline(
        settings,
        messages,
        "passthrough",
        lambda source, target, ready: (
            passthrough,
            (
                producer_config(settings),
                source,
                target,
                settings.topic_partitions,
                len(messages),
                f"{settings.topic_prefix}bench.warm-up",
                ready,
            ),
        ),
    )


def run_faust_floor(settings: Settings, messages: list[Encoded]) -> dict[str, float]:
    """The same bytes through a Faust agent set up like the worker that only forwards them."""
    datadir = settings.state_dir / "workers" / f"{settings.topic_prefix}faust-floor"
    return run_baseline(
        settings,
        messages,
        "faust-floor",
        lambda source, target, ready: (
            faust_floor.run_faust_floor,
            (settings.topic_prefix, source, target, str(datadir), ready),
        ),
        warm_up=WARM_UP,  # Faust joins its group first: its start-up is not part of the rate
    )


def run_baseline(
    settings: Settings,
    messages: list[Encoded],
    name: str,
    child_for: Callable[[str, str, Any], tuple[Callable[..., None], tuple[Any, ...]]],
    warm_up: int = 0,
) -> dict[str, float]:
    """Time ``messages`` (copied to a topic of their own) through a child process's loop."""
    prefix, partitions = settings.topic_prefix, settings.topic_partitions
    source, target = f"{prefix}bench.{name}.in", f"{prefix}bench.{name}.out"
    admin = make_admin(settings)
    for future in admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1) for topic in (source, target)]
    ).values():
        future.result()
    copies = [(source, key, value, headers, rid) for _, key, value, headers, rid in messages]
    # Warm-up copies carry other request ids (the loops forward bytes, the collector reads ids).
    warm = [
        (source, key, value.replace(rid.encode(), f"warm-{rid}".encode()), headers, f"warm-{rid}")
        for source, key, value, headers, rid in copies[:warm_up]
    ]
    collector = ResultCollector(settings, topic=target)
    producer = warmed_producer(settings)  # also creates the warm-up topic the passthrough uses
    context = mp.get_context("spawn")
    ready = context.Event()
    target_fn, args = child_for(source, target, ready)
    child = context.Process(target=target_fn, args=args, daemon=True)
    child.start()
    try:
        if warm:
            produce_all(producer, warm)
            producer.flush(60)
            if collector.wait_for_ids([rid for *_, rid in warm], RESULT_TIMEOUT_S):
                raise RuntimeError(f"{name}: the warm-up messages never came out")
        if not ready.wait(60):
            raise RuntimeError(f"the {name} process did not start")
        meter = CpuMeter(child.pid or 0).start()
        started = time.time()
        produce_all(producer, copies)
        producer.flush(60)
        produced_s = time.time() - started
        missing = collector.wait_for_ids([rid for *_, rid in copies], RESULT_TIMEOUT_S)
        if missing:
            raise RuntimeError(f"{name}: {len(missing)} messages never came out")
        meter.stop()
        last = max(collector.results[rid].received for *_, rid in copies)
        child.join(5 if warm else 60)  # the passthrough stops by itself, the Faust app never does
    finally:
        collector.close()
        if child.is_alive():
            child.terminate()
            child.join(30)
    elapsed = last - started
    steady = steady_rate([collector.results[rid].received for *_, rid in copies])
    return {
        "s": elapsed,
        "rate": len(copies) / elapsed,
        "steady": steady,
        "produce_s": produced_s,
        "cpu_us": meter.us_per(len(copies)),
    }


# --- d. the second model: trained and promoted in a child process ------------------------


def train_second(prefix: str, seed: int, out: Any) -> None:
    settings = Settings().model_copy(update={"topic_prefix": prefix})
    transfers = [e for e in history_events(seed) if isinstance(e, TransferCompleted)]
    started = time.time()
    model = train_initial(settings, transfers=transfers)
    out.put((model.version, started, time.time()))


def promoted_at(settings: Settings, version: str) -> float | None:
    """The broker-side timestamp (CreateTime) of the ModelPromoted for ``version``."""
    topic = settings.topic(MODELS_LIFECYCLE.name)
    consumer = Consumer({**kafka_connection(settings).confluent(), "group.id": f"bench-lc-{time.time_ns()}"})
    partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    found = None
    deadline = time.monotonic() + 15
    while found is None and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=100, timeout=0.5):
            if message.error() is not None:
                continue
            body = json.loads(message.value() or b"{}")
            if body.get("event_type") == "ModelPromoted" and body.get("version") == version:
                found = message.timestamp()[1] / 1000
    consumer.close()
    return found


# --- the run -------------------------------------------------------------------------------


def wait_results(collector: ResultCollector, ids: list[str], what: str, worker: Service) -> None:
    missing = collector.wait_for_ids(ids, RESULT_TIMEOUT_S)
    if missing:
        raise RuntimeError(f"{what}: {len(missing)} of {len(ids)} requests unanswered\n{worker.log_tail()}")


def measure_throughput(
    settings: Settings, collector: ResultCollector, worker: Service, messages: list[Encoded]
) -> dict[str, float]:
    producer = warmed_producer(settings)
    meter = CpuMeter(worker.process.pid).start()
    started = time.time()
    produce_all(producer, messages)
    producer.flush(60)
    produced_s = time.time() - started
    ids = [rid for *_, rid in messages]
    wait_results(collector, ids, "throughput", worker)
    meter.stop()
    last = max(collector.results[rid].received for rid in ids)
    failed = sum(collector.results[rid].status != "ok" for rid in ids)
    return {
        "s": last - started,
        "rate": len(ids) / (last - started),
        "steady": steady_rate([collector.results[rid].received for rid in ids]),
        "produce_s": produced_s,
        "failed": failed,
        "cpu_us": meter.us_per(len(ids)),
    }


def measure_latency(
    settings: Settings, collector: ResultCollector, worker: Service, messages: list[Encoded], rate: float
) -> dict[str, float]:
    ids = [rid for *_, rid in messages]
    meter = CpuMeter(worker.process.pid).start()
    with quiet_gc():
        sender = PacedSender(settings, messages, rate).start()
        sender.join()
        wait_results(collector, ids, "latency", worker)
    meter.stop()
    latencies = [(collector.results[rid].received - sender.sent_at[rid]) * 1000 for rid in ids]
    worker_ms = [t for rid in ids if (t := collector.results[rid].worker_total_ms) is not None]
    queued_ms = [t for rid in ids if (t := collector.results[rid].worker_queued_ms) is not None]
    return {
        "offered_rate": rate,
        "achieved_rate": sender.achieved_rate,
        "requests": len(ids),
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "worker_p50_ms": percentile(worker_ms, 50) if worker_ms else -1.0,
        "worker_p99_ms": percentile(worker_ms, 99) if worker_ms else -1.0,
        "worker_queued_p50_ms": percentile(queued_ms, 50) if queued_ms else -1.0,
        "worker_queued_p99_ms": percentile(queued_ms, 99) if queued_ms else -1.0,
        "failed": sum(collector.results[rid].status != "ok" for rid in ids),
        "cpu_us_per_request": meter.us_per(len(ids)),
    }


def measure_swap(
    settings: Settings, collector: ResultCollector, worker: Service, messages: list[Encoded], rate: float
) -> dict[str, Any]:
    sender = PacedSender(settings, messages, rate).start()
    trainer: Any = None
    try:
        # Let the flow settle: a couple of seconds of results from the serving model.
        warm = [rid for *_, rid in messages[: int(rate * 2)]]
        wait_results(collector, warm, "swap warm-up", worker)
        old = {collector.results[rid].version for rid in warm}
        context = mp.get_context("spawn")
        out = context.Queue()
        trainer = context.Process(target=train_second, args=(settings.topic_prefix, SECOND_SEED, out))
        trainer.start()
        version, train_started, returned = out.get(timeout=600)
        trainer.join(60)
        if not collector.wait_until(lambda: version in collector.first_by_version, 120):
            raise RuntimeError(f"no result from version {version} within 120 s\n{worker.log_tail()}")
        time.sleep(2.0)  # keep the flow going a little after the swap
    finally:
        sender.stop.set()
        sender.join(60)
        if trainer is not None and trainer.is_alive():
            trainer.terminate()
    ids = [rid for *_, rid in messages[: sender.sent]]
    missing = collector.wait_for_ids(ids, 60)
    answered = [collector.results[rid] for rid in ids if rid in collector.results]
    first_new = min(seen.received for seen in answered if seen.version == version)
    # Requests whose answer came after the swap but from the old model (batches in flight).
    old_after = sum(seen.version != version and seen.received > first_new for seen in answered)
    broker_ts = promoted_at(settings, version)
    return {
        "rate": rate,
        "achieved_rate": sender.achieved_rate,
        "requests": len(ids),
        "old_versions": sorted(v for v in old if v),
        "new_version": version,
        "train_s": returned - train_started,
        "s": first_new - returned,
        "from_event_s": (first_new - broker_ts) if broker_ts else None,
        "failed": sum(seen.status != "ok" for seen in answered),
        "missing": len(missing),
        "old_results_after_first_new": old_after,
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def rounded(prefix: str, values: dict[str, Any], digits: int = 3) -> dict[str, Any]:
    return {
        f"{prefix}{k}": round(v, digits) if isinstance(v, float) else v
        for k, v in values.items()
        if v is not None
    }


def start_worker(settings: Settings, name: str, collector: ResultCollector, transfers: list[Any]) -> Service:
    """Start `mlops-fc worker` and wait until it answers a first few hundred requests."""
    worker = start_service(settings, name, "worker", "--name", name, "--metrics-port", str(free_port()))
    warm = make_requests(settings, transfers, WARM_UP, "warm")
    producer = make_producer(settings)
    produce_all(producer, warm)
    producer.flush(60)
    wait_results(collector, [rid for *_, rid in warm], "warm-up", worker)
    return worker


def batch_totals(worker: Service) -> tuple[float, float]:
    """(batches, requests) the worker has scored, from its /metrics batch-size histogram."""
    args = [str(a) for a in worker.process.args]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{args[args.index('--metrics-port') + 1]}/metrics"
    found = {
        sample.name: sample.value
        for family in text_string_to_metric_families(httpx.get(url, timeout=10).text)
        for sample in family.samples
        if sample.name in ("mlops_fc_worker_batch_size_count", "mlops_fc_worker_batch_size_sum")
    }
    return (
        found.get("mlops_fc_worker_batch_size_count", 0.0),
        found.get("mlops_fc_worker_batch_size_sum", 0.0),
    )


def throughput_phase(
    settings: Settings,
    collector: ResultCollector,
    worker: Service,
    requests: list[Encoded],
    version: str,
    transfers: list[Any],
) -> dict[str, Any]:
    before = load_1m()
    batches_before = batch_totals(worker)
    through = measure_throughput(settings, collector, worker, requests)
    batches_after = batch_totals(worker)
    batches, scored = (batches_after[i] - batches_before[i] for i in (0, 1))
    print(
        f"a. worker:      {len(requests)} requests in {through['s']:.2f}s: {through['rate']:,.0f} req/s "
        f"(produced in {through['produce_s']:.2f}s, {through['failed']} not ok; "
        f"{batches:,.0f} batches of {scored / max(batches, 1):.0f} on average)  [load {before} -> {load()}]",
        flush=True,
    )
    middle = load_1m()
    plain = run_passthrough(settings, requests)
    ratio = through["steady"] / plain["steady"]
    end_to_end = through["rate"] / plain["rate"]  # the definition: N over first send to last result
    met = min(ratio, end_to_end) >= TARGET_RATIO
    print(
        f"b. passthrough: {len(requests)} messages in {plain['s']:.2f}s: {plain['rate']:,.0f} msg/s  "
        f"[load {middle} -> {load()}]",
        flush=True,
    )
    floor_load = load_1m()
    floor = run_faust_floor(settings, requests)
    print(
        f"   faust floor: {len(requests)} messages in {floor['s']:.2f}s: {floor['rate']:,.0f} msg/s "
        f"(a Faust agent set up like the worker that forwards each request unchanged)  "
        f"[load {floor_load} -> {load()}]",
        flush=True,
    )
    print(
        f"   steady rates (middle 80% of results): worker {through['steady']:,.0f} req/s, "
        f"passthrough {plain['steady']:,.0f} msg/s, faust floor {floor['steady']:,.0f} msg/s"
    )
    print(
        f"   ratio worker / passthrough = {ratio:.1%} steady, {end_to_end:.1%} end to end "
        f"(target >= {TARGET_RATIO:.0%} on both: {verdict(met)})"
    )
    to_floor = through["rate"] / floor["rate"]
    print(
        f"   for scale, end to end: faust floor / passthrough = {floor['rate'] / plain['rate']:.1%}, "
        f"worker / faust floor = {to_floor:.1%} "
        f"(target >= {TARGET_FLOOR_RATE:.0%}: {verdict(to_floor >= TARGET_FLOOR_RATE)})"
    )
    cpu_ratio = through["cpu_us"] / floor["cpu_us"]
    print(
        f"   CPU per request (process user+system over the phase): worker {through['cpu_us']:,.0f} us, "
        f"faust floor {floor['cpu_us']:,.0f} us/msg, passthrough {plain['cpu_us']:,.0f} us/msg; "
        f"worker / floor = {cpu_ratio:.2f} "
        f"(target <= {TARGET_CPU_RATIO}: {verdict(cpu_ratio <= TARGET_CPU_RATIO)})"
    )
    bound = bound_figures(settings, version, requests, transfers, scored / max(batches, 1), through, floor)
    return {
        **bound,
        "worker_requests": len(requests),
        "worker_s": round(through["s"], 3),
        "worker_req_per_s": round(through["rate"], 1),
        "worker_steady_req_per_s": round(through["steady"], 1),
        "worker_failed": through["failed"],
        "worker_mean_batch": round(scored / max(batches, 1), 1),
        "worker_load_1m": before,
        "passthrough_s": round(plain["s"], 3),
        "passthrough_msg_per_s": round(plain["rate"], 1),
        "passthrough_steady_msg_per_s": round(plain["steady"], 1),
        "ratio_end_to_end": round(end_to_end, 4),
        "passthrough_load_1m": middle,
        "faust_floor_s": round(floor["s"], 3),
        "faust_floor_msg_per_s": round(floor["rate"], 1),
        "faust_floor_steady_msg_per_s": round(floor["steady"], 1),
        "faust_floor_load_1m": floor_load,
        "faust_floor_ratio_end_to_end": round(floor["rate"] / plain["rate"], 4),
        "worker_to_faust_floor_end_to_end": round(through["rate"] / floor["rate"], 4),
        "worker_cpu_us_per_request": round(through["cpu_us"], 1),
        "faust_floor_cpu_us_per_msg": round(floor["cpu_us"], 1),
        "passthrough_cpu_us_per_msg": round(plain["cpu_us"], 1),
        "worker_to_faust_floor_cpu": round(cpu_ratio, 3),
        "cpu_target_met": cpu_ratio <= TARGET_CPU_RATIO,
        "ratio": round(ratio, 4),
        "ratio_target_met": met,
    }


def bound_figures(
    settings: Settings,
    version: str,
    requests: list[Encoded],
    transfers: list[Any],
    mean_batch: float,
    through: dict[str, float],
    floor: dict[str, float],
) -> dict[str, Any]:
    """Our own steps alone on the same requests and batch size (bench/ours_alone.py), against the floor."""
    alone = ours_alone(settings, version, requests, transfers, round(mean_batch))
    compiled = alone.pop("compiled_trees") == 1.0
    bound = (floor["cpu_us"] + alone["total"]) / floor["cpu_us"]
    rest = through["cpu_us"] - floor["cpu_us"] - alone["total"]
    print(
        f"   our steps alone (same requests and model, batches of {round(mean_batch)}, no Faust): "
        + ", ".join(f"{part} {us:,.0f} us" for part, us in alone.items())
        + f" a request (predict by {'treelite' if compiled else 'scikit-learn'}); "
        f"floor + these = {bound:.2f} x the floor (the lowest ratio reachable with "
        f"every other cost of ours gone); left beside floor and these: {rest:,.0f} us (vectors, state, "
        "ledger, the larger results through librdkafka, the worker's other agents and timers)"
    )
    return {
        **{f"ours_alone_{part}_us": round(us, 1) for part, us in alone.items()},
        "ours_alone_compiled_trees": compiled,
        "floor_plus_ours_alone_ratio": round(bound, 3),
        "worker_rest_cpu_us_per_request": round(rest, 1),
    }


def shadow_phase(
    settings: Settings, collector: ResultCollector, worker: Service, transfers: list[Any], count: int
) -> dict[str, Any]:
    """The throughput run without a shadow, then with a second model scoring in shadow (issue 16)."""
    second = [e for e in history_events(SECOND_SEED) if isinstance(e, TransferCompleted)]
    load_without = load_1m()
    without = measure_throughput(
        settings, collector, worker, make_requests(settings, transfers, count, "nosh")
    )
    mark = worker.log_path.stat().st_size
    pointer = shadow_slot.put_in_shadow(settings, second)
    if not shadow_slot.wait_for_log(worker.log_path, shadow_slot.LOADED, mark, 120):
        raise RuntimeError(f"the worker never loaded shadow version {pointer.version}\n{worker.log_tail()}")
    shadowed = ResultCollector(settings, topic=settings.topic(PREDICTIONS_SHADOW.name))
    requests = make_requests(settings, transfers, count, "sh")
    ids = [rid for *_, rid in requests]
    load_with = load_1m()
    try:
        with_shadow = measure_throughput(settings, collector, worker, requests)
        missing = shadowed.wait_for_ids(ids, RESULT_TIMEOUT_S)
        versions = {shadowed.results[rid].version for rid in ids if rid in shadowed.results}
    finally:
        shadowed.close()
    if missing or versions != {pointer.version}:
        raise RuntimeError(f"shadow: {len(missing)} requests without a shadow result, versions {versions}")
    mark = worker.log_path.stat().st_size
    shadow_slot.end_shadow(settings, pointer)
    dropped = shadow_slot.wait_for_log(
        worker.log_path, shadow_slot.DROPPED, mark, settings.worker_model_poll_s * 6
    )
    cpu_ratio = with_shadow["cpu_us"] / without["cpu_us"]
    rate_ratio = with_shadow["rate"] / without["rate"]
    print(
        f"e. shadow: {count} requests without a shadow {without['rate']:,.0f} req/s, "
        f"{without['cpu_us']:,.0f} us CPU each [load {load_without}]; with version {pointer.version} "
        f"scoring every batch in shadow {with_shadow['rate']:,.0f} req/s, {with_shadow['cpu_us']:,.0f} us "
        f"each [load {load_with}]: CPU x{cpu_ratio:.2f}, throughput x{rate_ratio:.2f} "
        f"(every request also answered on predictions.shadow; slot emptied: {dropped})",
        flush=True,
    )
    return {
        "no_shadow_req_per_s": round(without["rate"], 1),
        "no_shadow_cpu_us_per_request": round(without["cpu_us"], 1),
        "no_shadow_load_1m": load_without,
        "shadow_req_per_s": round(with_shadow["rate"], 1),
        "shadow_cpu_us_per_request": round(with_shadow["cpu_us"], 1),
        "shadow_load_1m": load_with,
        "shadow_cpu_ratio": round(cpu_ratio, 3),
        "shadow_throughput_ratio": round(rate_ratio, 3),
        "shadow_failed": with_shadow["failed"],
    }


def profile_phase(
    settings: Settings, collector: ResultCollector, worker: Service, requests: list[Encoded]
) -> dict[str, Any]:
    """The throughput run again under py-spy: where the worker's CPU goes, part by part."""
    if profile_split.py_spy() is None:
        print("p. profile: py-spy is not installed (pip install py-spy): no split", flush=True)
        return {}
    before = load_1m()
    output = settings.state_dir / f"{settings.topic_prefix}profile.txt"
    recording = profile_split.Recording(worker.process.pid, output)
    try:
        through = measure_throughput(settings, collector, worker, requests)
    finally:
        counts = recording.stop()
    shares = profile_split.shares(counts)
    print(
        f"p. profile ({len(requests)} requests under py-spy, {profile_split.samples(counts):,} samples, "
        f"{through['rate']:,.0f} req/s, {through['cpu_us']:,.0f} us CPU each)  [load {before} -> {load()}]",
        flush=True,
    )
    print("   " + ", ".join(f"{part} {share:.1%}" for part, share in shares.items()))
    print(
        "   per request: "
        + ", ".join(
            f"{part} {share * through['cpu_us']:,.0f} us" for part, share in shares.items() if "." not in part
        )
    )
    return {
        "profile_split": shares,
        "profile_samples": profile_split.samples(counts),
        "profile_cpu_us_per_request": round(through["cpu_us"], 1),
        "profile_load_1m": before,
    }


def latency_phase(
    settings: Settings, collector: ResultCollector, worker: Service, requests: list[Encoded], rate: float
) -> dict[str, Any]:
    before = load_1m()
    batches_before = batch_totals(worker)
    lat = measure_latency(settings, collector, worker, requests, rate)
    batches_after = batch_totals(worker)
    batches, scored = (batches_after[i] - batches_before[i] for i in (0, 1))
    lat["batches_per_s"] = batches / (lat["requests"] / lat["achieved_rate"])
    lat["mean_batch"] = scored / max(batches, 1)
    print(
        f"c. latency at {lat['offered_rate']:,.0f}/s offered ({lat['achieved_rate']:,.0f}/s sent, "
        f"{lat['requests']} requests): p50 {lat['p50_ms']:.1f} ms, p90 {lat['p90_ms']:.1f} ms, "
        f"p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms  [load {before} -> {load()}]",
        flush=True,
    )
    print(
        f"   worker CPU: {lat['cpu_us_per_request']:,.0f} us per request "
        f"({lat['cpu_us_per_request'] * lat['achieved_rate'] / 1e6:.0%} of one core at this rate)"
    )
    print(
        f"   of which in the worker (request broker timestamp -> result built): "
        f"p50 {lat['worker_p50_ms']:.1f} ms, p99 {lat['worker_p99_ms']:.1f} ms; {lat['failed']} not ok"
    )
    print(
        f"   of which queued before its batch started: "
        f"p50 {lat['worker_queued_p50_ms']:.1f} ms, p99 {lat['worker_queued_p99_ms']:.1f} ms "
        f"({lat['batches_per_s']:,.0f} batches/s of {lat['mean_batch']:.1f} requests on average)"
    )
    met = lat["p99_ms"] <= TARGET_P99_MS
    print(f"   p99 target <= {TARGET_P99_MS:.0f} ms: {verdict(met)}")
    return {**rounded("latency_", lat, 2), "latency_load_1m": before, "latency_target_met": met}


def swap_phase(
    settings: Settings, collector: ResultCollector, worker: Service, requests: list[Encoded], rate: float
) -> dict[str, Any]:
    before = load_1m()
    swap = measure_swap(settings, collector, worker, requests, rate)
    from_event = swap["from_event_s"]
    print(
        f"d. swap at {swap['rate']:,.0f}/s ({swap['achieved_rate']:,.0f}/s sent): version "
        f"{'/'.join(swap['old_versions'])} -> {swap['new_version']} "
        f"(trained and promoted in {swap['train_s']:.1f}s)",
        flush=True,
    )
    print(
        f"   first result from the new version {swap['s'] * 1000:,.0f} ms after train_initial returned"
        + (f" ({from_event * 1000:,.0f} ms after the ModelPromoted timestamp)" if from_event else "")
        + f"  [load {before} -> {load()}]"
    )
    print(
        f"   {swap['requests']} requests during the swap: {swap['failed']} failed, "
        f"{swap['missing']} missing, {swap['old_results_after_first_new']} answered by the old "
        "model after the first new one"
    )
    met = swap["s"] <= TARGET_SWAP_S and swap["failed"] == 0 and swap["missing"] == 0
    print(f"   target: within {TARGET_SWAP_S:.0f} s, zero failed: {verdict(met)}")
    return {**rounded("swap_", swap), "swap_load_1m": before, "swap_target_met": met}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="N for throughput (default 20000)")
    parser.add_argument("--rate", type=float, default=1000.0, help="latency: offered rate (default 1000/s)")
    parser.add_argument("--seconds", type=float, default=10.0, help="latency run length (default 10 s)")
    parser.add_argument(
        "--latency-runs", type=int, default=1, help="latency: how many runs on the same worker (default 1)"
    )
    parser.add_argument("--swap-rate", type=float, default=200.0, help="request rate during the swap (200/s)")
    parser.add_argument("--keep", action="store_true", help="keep the bench topics and Redis keys")
    parser.add_argument(
        "--phases",
        default="throughput,profile,latency,shadow,swap",
        help="which measurements to run, comma-separated (default: throughput,profile,latency,shadow,swap)",
    )
    args = parser.parse_args()
    phases = {name.strip() for name in args.phases.split(",")}
    if unknown := phases - {"throughput", "profile", "latency", "shadow", "swap"}:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")

    print(f"load average at start: {load()}", flush=True)
    settings = fresh("inference")
    worker_name = settings.topic_prefix.rstrip(".")
    events = history_events(FIRST_SEED)
    transfers = [e for e in events if isinstance(e, TransferCompleted)]
    figures: dict[str, Any] = {"prefix": settings.topic_prefix, "history_transfers": len(transfers)}
    collector: ResultCollector | None = None
    worker: Service | None = None
    try:
        publish_history(settings, events)
        first = train_initial(settings, transfers=transfers)
        print(f"history: {len(transfers)} transfers; model version {first.version} serving", flush=True)
        collector = ResultCollector(settings)
        started = time.time()
        worker = start_worker(settings, worker_name, collector, transfers)
        figures["worker_ready_s"] = round(time.time() - started, 2)
        print(f"worker ready (first {WARM_UP} answered) after {figures['worker_ready_s']:.1f}s", flush=True)

        if "throughput" in phases:
            requests = make_requests(settings, transfers, args.requests, "thr")
            figures.update(throughput_phase(settings, collector, worker, requests, first.version, transfers))
        if "profile" in phases:
            requests = make_requests(settings, transfers, args.requests, "prof")
            figures.update(profile_phase(settings, collector, worker, requests))
        if "latency" in phases:
            runs: list[dict[str, Any]] = []
            for run in range(args.latency_runs):
                label = "lat" if run == 0 else f"lat{run}"
                requests = make_requests(settings, transfers, int(args.rate * args.seconds), label)
                runs.append(latency_phase(settings, collector, worker, requests, args.rate))
            figures.update(runs[0])
            if args.latency_runs > 1:
                figures["latency_runs"] = [
                    {k: r[f"latency_{k}"] for k in ("p99_ms", "p50_ms", "cpu_us_per_request", "load_1m")}
                    for r in runs
                ]
                met = sum(r["latency_target_met"] for r in runs)
                figures["latency_runs_met"] = met
                print(
                    f"   p99 <= {TARGET_P99_MS:.0f} ms in {met} of {len(runs)} runs: "
                    + ", ".join(f"{r['latency_p99_ms']:.0f} ms (load {r['latency_load_1m']})" for r in runs)
                )
        if "shadow" in phases:
            figures.update(shadow_phase(settings, collector, worker, transfers, args.requests))
        if "swap" in phases:
            requests = make_requests(settings, transfers, int(args.swap_rate * SWAP_MAX_S), "swap")
            figures.update(swap_phase(settings, collector, worker, requests, args.swap_rate))
        figures["duplicates"] = collector.duplicates
        print(f"duplicate results over the run: {collector.duplicates}")
    finally:
        if collector is not None:
            collector.close()
        if worker is not None:
            worker.stop()
            figures["worker_log"] = str(worker.log_path)
        if not args.keep:
            clean_up(settings, [worker_name, f"{settings.topic_prefix}faust-floor"])
    figures["load_end"] = load()
    print(f"load average at the end: {figures['load_end']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
