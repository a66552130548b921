"""The closed loop: drift check time, retrain time on the six leagues, drift event to new model serving.

a. drift: one Evidently feature drift check on a 5,000-row window, as bench/drift_check.py
   measures it (cold run, then the median of warm runs, and the HTML report);
b. retrain: the six Transfermarkt leagues (default ../shared/data/transfers; skipped with a
   message when absent) read from CSV, replayed into the point-in-time training set, then
   retrainer.challenger.compare (window 'all', 1,000-row holdout, margin 2%, no champion):
   four fits of the gradient-boosted model, timed apart from reading and feature building;
c. loop: on the local stack (started if needed), in a fresh topic namespace, a synthetic
   history whose later seasons are shifted (fees x4), a first model trained on the seasons
   before the shift, one `mlops-fc worker` and one `mlops-fc retrainer` subprocess, and
   requests flowing at a steady modest rate; then a manual DriftDetected is published (as
   `mlops-fc retrain` builds it). Measured: from its publish time to the ModelPromoted
   (the retrainer's share: read history, train, compare, register in MLflow, promote) and
   to the first result that carries the new version. Target: at most 2 minutes.

    .venv/bin/python bench/loop.py [--parts drift,retrain,loop] [--rows 5000] [--data PATH]
                                   [--rate 20] [--keep]

The machine has 2 cores shared with whatever else runs: the load average is printed next
to each figure. Last line: one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, ConsumerGroupState, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, before bench/

from bench.drift_check import measure_drift_check  # noqa: E402
from bench.harness import (  # noqa: E402
    PacedSender,
    ResultCollector,
    clean_up,
    fresh,
    load,
    load_1m,
    make_requests,
    produce_all,
    publish_history,
)
from devstack.processes import free_port  # noqa: E402
from devstack.services import Service, start_service  # noqa: E402
from features.training_set import build_training_set  # noqa: E402
from producers.synthetic import DriftSpec, generate  # noqa: E402
from producers.transfermarkt import read_transfers_csv  # noqa: E402
from retrainer.challenger import compare  # noqa: E402
from retrainer.initial import train_initial  # noqa: E402
from retrainer.window import TrainingWindow  # noqa: E402
from schemas.codec import encode_for  # noqa: E402
from schemas.monitoring import DriftDetected  # noqa: E402
from schemas.records import TransferCompleted  # noqa: E402
from schemas.topics import MODELS_LIFECYCLE, MONITORING_DRIFT  # noqa: E402
from stack.kafka_clients import (
    make_admin,
    make_producer,  # noqa: E402
)
from stack.kafka_connection import kafka_connection
from stack.settings import Settings  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "transfers"
PARTS = ("drift", "retrain", "loop")
SEASONS = range(2010, 2021)
SHIFT_FROM = 2017  # seasons from this one on have fees x FEE_SHIFT
FEE_SHIFT = 4.0
PER_SEASON = 500
SEED = 21
TARGET_LOOP_S = 120.0
READY_TIMEOUT_S = 300.0


# --- b. retrain time on the six leagues -----------------------------------------------------


def measure_retrain(data: Path) -> dict[str, Any]:
    started = time.perf_counter()
    transfers = read_transfers_csv([data]).transfers
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    frame = build_training_set(transfers)
    features_s = time.perf_counter() - started
    started = time.perf_counter()
    comparison = compare(frame, None, "bench", TrainingWindow.parse("all"), 1000, 0.02)
    train_s = time.perf_counter() - started
    return {
        "retrain_transfers": len(transfers),
        "retrain_rows": len(frame),
        "retrain_read_s": round(read_s, 3),
        "retrain_features_s": round(features_s, 3),
        "retrain_train_s": round(train_s, 3),
        "retrain_total_s": round(read_s + features_s + train_s, 3),
        "retrain_holdout_mae_log": round(comparison.challenger_metrics["mae_log"], 4),
    }


# --- c. drift event to new model serving ----------------------------------------------------


@dataclass
class LifecycleWatcher:
    """Reads models.lifecycle in a thread: (event type, version, CreateTime in s) per event."""

    settings: Settings
    events: list[tuple[str, str | None, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> LifecycleWatcher:
        self._thread = threading.Thread(target=self._run, daemon=True, name="lifecycle-watcher")
        self._thread.start()
        return self

    def _run(self) -> None:
        topic = self.settings.topic(MODELS_LIFECYCLE.name)
        consumer = Consumer(
            {
                **kafka_connection(self.settings).confluent(),
                "group.id": f"bench-lifecycle-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
            }
        )
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        while not self._stop.is_set():
            message = consumer.poll(0.2)
            if message is None or message.error() is not None:
                continue
            body = json.loads(message.value() or b"{}")
            self.events.append(
                (body.get("event_type", "?"), body.get("version"), message.timestamp()[1] / 1000)
            )
        consumer.close()

    def find(self, event_type: str, not_version: str) -> tuple[str | None, float] | None:
        for kind, version, at in list(self.events):
            if kind == event_type and version != not_version:
                return version, at
        return None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def wait_for_group(settings: Settings, group: str, timeout: float) -> bool:
    """Until the consumer group is stable with a member (the retrainer is listening)."""
    admin = make_admin(settings)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = admin.describe_consumer_groups([group])[group].result()
        if description.state == ConsumerGroupState.STABLE and description.members:
            return True
        time.sleep(0.5)
    return False


def publish_drift(settings: Settings, version: str) -> float:
    """A manual DriftDetected, as `mlops-fc retrain` builds it; the time.time() it was sent."""
    now = datetime.now(UTC)
    event = DriftDetected(
        source="bench",
        model_name=settings.model_name,
        model_version=version,
        kind="feature",
        method="manual",
        window_start=now,
        window_end=now,
        window_size=0,
        threshold=0.0,
        report_uri=None,
        scores={},
    )
    producer = make_producer(settings)
    key, value, headers = encode_for(event, MONITORING_DRIFT)
    sent = time.time()
    producer.produce(settings.topic(MONITORING_DRIFT.name), key=key, value=value, headers=list(headers))
    if producer.flush(30) != 0:
        raise RuntimeError("the drift event was not delivered")
    return sent


def start_services(
    settings: Settings, name: str, collector: ResultCollector, transfers: list[TransferCompleted]
) -> list[Service]:
    """A worker answering requests and a retrainer in its consumer group, both ready."""
    services = [
        start_service(
            settings, f"{name}-worker", "worker", f"--name={name}-worker", f"--metrics-port={free_port()}"
        ),
        start_service(settings, f"{name}-retrainer", "retrainer"),
    ]
    worker, retrainer = services
    try:
        warm = make_requests(settings, transfers, 200, "warm")
        producer = make_producer(settings)
        produce_all(producer, warm)
        producer.flush(60)
        if collector.wait_for_ids([rid for *_, rid in warm], READY_TIMEOUT_S):
            raise RuntimeError(f"the worker did not answer the warm-up requests\n{worker.log_tail()}")
        group = f"{settings.topic_prefix}mlops-fc-retrainer"
        if not wait_for_group(settings, group, READY_TIMEOUT_S):
            raise RuntimeError(f"the retrainer did not join its group\n{retrainer.log_tail()}")
    except BaseException:
        for service in services:
            service.stop()
        raise
    return services


def measure_loop(rate: float, timeout: float, per_season: int, keep: bool) -> dict[str, Any]:
    settings = fresh("loop")
    name = settings.topic_prefix.rstrip(".")
    drift = DriftSpec(from_season=SHIFT_FROM, fee_inflation=FEE_SHIFT, age_shift=0.0, league_shift=0.0)
    events = list(generate(SEED, SEASONS, per_season, drift))
    transfers = [e for e in events if isinstance(e, TransferCompleted)]
    services: list[Service] = []
    collector: ResultCollector | None = None
    watcher: LifecycleWatcher | None = None
    sender: PacedSender | None = None
    try:
        publish_history(settings, events)
        first = train_initial(settings, transfers=[t for t in transfers if t.season < SHIFT_FROM])
        old = first.version
        print(
            f"   history: {len(transfers)} transfers, seasons {SEASONS[0]}-{SEASONS[-1]}, "
            f"fees x{FEE_SHIFT:g} from {SHIFT_FROM}; version {old} trained on the seasons before",
            flush=True,
        )
        collector = ResultCollector(settings)
        watcher = LifecycleWatcher(settings).start()
        services = start_services(settings, name, collector, transfers)
        worker, retrainer = services
        print("   worker answering, retrainer listening", flush=True)

        messages = make_requests(settings, transfers, int(rate * (timeout + 60)), "loop")
        sender = PacedSender(settings, messages, rate).start()
        if collector.wait_for_ids([rid for *_, rid in messages[: int(rate * 2)]], 60):
            raise RuntimeError(f"requests at {rate}/s are not answered\n{worker.log_tail()}")
        before = load_1m()
        published = publish_drift(settings, old)

        def new_version() -> str | None:
            return next((v for v in collector.first_by_version if v not in (None, old)), None)

        collector.wait_until(
            lambda: new_version() is not None or watcher.find("ModelRejected", old) is not None, timeout
        )
        version = new_version()
        if version is None:
            rejected = watcher.find("ModelRejected", old) is not None
            why = "the challenger was rejected" if rejected else f"no new version within {timeout:.0f}s"
            raise RuntimeError(f"{why}\n{retrainer.log_tail()}")
        first_new = collector.first_by_version[version]
        deadline = time.monotonic() + 10
        while (promoted := watcher.find("ModelPromoted", old)) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # a little more flow after the swap
        sender.stop.set()
        sender.join(30)
        ids = [rid for *_, rid in messages[: sender.sent]]
        missing = collector.wait_for_ids(ids, 60)
        answered = [collector.results[rid] for rid in ids if rid in collector.results]
        return {
            "loop_history_transfers": len(transfers),
            "loop_rate": rate,
            "loop_achieved_rate": round(sender.achieved_rate, 1),
            "loop_old_version": old,
            "loop_new_version": version,
            "loop_drift_to_promoted_s": round(promoted[1] - published, 3) if promoted else None,
            "loop_promoted_to_serving_s": round(first_new - promoted[1], 3) if promoted else None,
            "loop_drift_to_serving_s": round(first_new - published, 3),
            "loop_requests": len(ids),
            "loop_failed": sum(s.status != "ok" for s in answered),
            "loop_missing": len(missing),
            "loop_load_1m": before,
            "loop_target_met": first_new - published <= TARGET_LOOP_S,
            "loop_logs": [str(service.log_path) for service in services],
        }
    finally:
        if sender is not None:
            sender.stop.set()
            sender.join(30)
        for service in services:
            service.stop()
        if collector is not None:
            collector.close()
        if watcher is not None:
            watcher.stop()
        if not keep:
            clean_up(settings, [f"{name}-worker"])


# --- the run -------------------------------------------------------------------------------


def drift_part(rows: int, repeat: int) -> dict[str, Any]:
    before = load_1m()
    drift = measure_drift_check(rows=rows, repeat=repeat)
    print(
        f"a. Evidently drift check, {drift['drift_check_rows']} rows x {drift['drift_check_features']} "
        f"features against {drift['drift_check_reference_rows']}: median {drift['drift_check_s']:.2f}s "
        f"(cold {drift['drift_check_cold_s']:.2f}s, min {drift['drift_check_min_s']:.2f}s, "
        f"max {drift['drift_check_max_s']:.2f}s; HTML report {drift['drift_report_html_s']:.2f}s)  "
        f"[load {before} -> {load()}]",
        flush=True,
    )
    return {**drift, "drift_load_1m": before}


def retrain_part(data: Path) -> dict[str, Any]:
    if not data.exists():
        print(f"b. retrain: skipped, {data} not found (the Transfermarkt data is optional)", flush=True)
        return {"retrain_skipped": f"{data} not found"}
    before = load_1m()
    r = measure_retrain(data)
    print(
        f"b. retrain on {r['retrain_transfers']} transfers ({r['retrain_rows']} paid rows): "
        f"read CSV {r['retrain_read_s']:.1f}s, features {r['retrain_features_s']:.1f}s, "
        f"train (challenger vs holdout + refit, 4 fits) {r['retrain_train_s']:.1f}s; "
        f"total {r['retrain_total_s']:.1f}s  [load {before} -> {load()}]",
        flush=True,
    )
    return {**r, "retrain_load_1m": before}


def loop_part(rate: float, timeout: float, per_season: int, keep: bool) -> dict[str, Any]:
    print(f"c. drift event to new model serving (requests at {rate:g}/s):", flush=True)
    loop = measure_loop(rate, timeout, per_season, keep)
    promoted, serving = loop["loop_drift_to_promoted_s"], loop["loop_promoted_to_serving_s"]
    split = f" (to ModelPromoted {promoted:.1f}s, then {serving * 1000:,.0f} ms to serve)" if promoted else ""
    print(
        f"   version {loop['loop_old_version']} -> {loop['loop_new_version']}: drift event to the first "
        f"result from the new model {loop['loop_drift_to_serving_s']:.1f}s{split}  "
        f"[load {loop['loop_load_1m']} -> {load()}]"
    )
    print(
        f"   {loop['loop_requests']} requests meanwhile: {loop['loop_failed']} failed, "
        f"{loop['loop_missing']} missing; target <= {TARGET_LOOP_S:.0f}s: "
        f"{'met' if loop['loop_target_met'] else 'NOT met'}",
        flush=True,
    )
    return loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated: drift,retrain,loop (all)")
    parser.add_argument("--rows", type=int, default=5000, help="rows in the drift window (default 5000)")
    parser.add_argument("--repeat", type=int, default=3, help="warm drift checks (default 3)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Transfermarkt CSV folder")
    parser.add_argument("--rate", type=float, default=20.0, help="requests/s during the loop (default 20)")
    parser.add_argument(
        "--per-season", type=int, default=PER_SEASON, help=f"loop history: transfers a season ({PER_SEASON})"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="longest wait for the new model (s)")
    parser.add_argument("--keep", action="store_true", help="keep the loop's topics and Redis keys")
    args = parser.parse_args()
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if unknown := parts - set(PARTS):
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    figures: dict[str, Any] = {"load_start": load()}
    print(f"load average at start: {figures['load_start']}", flush=True)
    if "drift" in parts:
        figures.update(drift_part(args.rows, args.repeat))
    if "retrain" in parts:
        figures.update(retrain_part(args.data))
    if "loop" in parts:
        figures.update(loop_part(args.rate, args.timeout, args.per_season, args.keep))
    figures["load_end"] = load()
    print(f"load average at the end: {figures['load_end']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
