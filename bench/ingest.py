"""Ingest throughput: the CSV ingester against a plain confluent-kafka producer.

Ingests the Transfermarkt files (default: all six in ../shared/data/transfers) into a fresh
topic prefix on the local stack (started if it is not running), then sends the very same
bytes (keys, values, headers; encoded once up front) with a bare confluent-kafka loop into a
second fresh prefix, in the same run. Both producers use the project's settings:
idempotent, acks=all, lz4, linger 5 ms, and both check every delivery report.

* ingest publish events/s: encoding, producing, delivery reports and the final flush;
* ingest end-to-end events/s: the same plus reading and deduplicating the CSV files;
* plain events/s: produce() of ready bytes, delivery reports and flush.

    .venv/bin/python bench/ingest.py [PATH ...] [--as-requests] [--keep]

The bench topics are deleted afterwards unless --keep. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import Producer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.local import LocalStack  # noqa: E402
from producers.ingest import IngestSummary, csv_events, ingest_csv  # noqa: E402
from producers.transfermarkt import csv_files, read_transfers_csv  # noqa: E402
from schemas.codec import encode, key_for  # noqa: E402
from schemas.topics import CATALOGUE  # noqa: E402
from stack.kafka_clients import (
    make_admin,
    producer_config,  # noqa: E402
)
from stack.kafka_connection import kafka_connection
from stack.settings import Settings  # noqa: E402
from stack.topic_admin import ensure_topics  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "transfers"
Encoded = tuple[str, bytes | None, bytes, list[tuple[str, str | bytes | None]]]


def ensure_stack(settings: Settings) -> None:
    stack = LocalStack(settings)
    if not stack.kafka.is_healthy():
        print(f"starting the local stack ({kafka_connection(settings).bootstrap_servers})...", flush=True)
        stack.up()


def fresh(settings: Settings, label: str) -> Settings:
    isolated = settings.model_copy(update={"topic_prefix": f"bench-{label}-{uuid.uuid4().hex[:8]}."})
    ensure_topics(isolated)
    return isolated


def encoded_messages(paths: list[Path], settings: Settings, as_requests: bool) -> list[Encoded]:
    """What the ingester publishes, as bytes, for the plain producer's prefix."""
    planned = csv_events(read_transfers_csv(paths), as_requests)
    out: list[Encoded] = []
    for spec, event in planned:
        key, value, headers = encode(event, key_for(event, spec))
        out.append((settings.topic(spec.name), key, value, list(headers)))
    return out


def plain_send(settings: Settings, messages: list[Encoded]) -> float:
    """Seconds to send ``messages`` with a bare loop; raises if any delivery failed."""
    producer = Producer(producer_config(settings))
    failures: list[str] = []

    def report(error: object, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    started = time.perf_counter()
    for topic, key, value, headers in messages:
        while True:
            try:
                producer.produce(topic, value, key, headers=headers, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    unflushed = producer.flush(120)
    elapsed = time.perf_counter() - started
    if failures or unflushed:
        raise RuntimeError(f"plain producer: {len(failures)} failed, {unflushed} unflushed: {failures[:3]}")
    return elapsed


def delete_topics(settings: Settings, prefixes: list[str]) -> None:
    admin = make_admin(settings)
    names = [f"{prefix}{spec.name}" for prefix in prefixes for spec in CATALOGUE]
    for future in admin.delete_topics(names, operation_timeout=30).values():
        try:
            future.result()
        except Exception as exc:  # noqa: BLE001 - best effort clean-up
            print(f"could not delete a bench topic: {exc}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_DATA])
    parser.add_argument("--as-requests", action="store_true", help="also publish the replay requests")
    parser.add_argument("--keep", action="store_true", help="keep the bench topics")
    args = parser.parse_args()
    missing = [path for path in args.paths if not path.exists()]
    if missing:
        raise SystemExit(f"not found: {', '.join(map(str, missing))} (the Transfermarkt data is optional)")
    files = csv_files(args.paths)
    if not files:
        raise SystemExit(f"no CSV files in {args.paths}")

    base = Settings()
    ensure_stack(base)
    ours, plain = fresh(base, "ingest"), fresh(base, "plain")
    print(f"files: {', '.join(f.name for f in files)}", flush=True)
    try:
        summary: IngestSummary = ingest_csv(ours, files, as_requests=args.as_requests)
        events = summary.events_published
        end_to_end = events / summary.elapsed_s
        print(
            f"ingest:  {events} events ({dict(summary.published)}) in {summary.elapsed_s:.2f}s "
            f"(read {summary.elapsed_s - summary.publish_s:.2f}s, publish {summary.publish_s:.2f}s): "
            f"{summary.events_per_s:,.0f} events/s publishing, {end_to_end:,.0f} events/s end to end",
            flush=True,
        )
        messages = encoded_messages(files, plain, args.as_requests)
        assert len(messages) == events, (len(messages), events)
        plain_s = plain_send(plain, messages)
        plain_rate = len(messages) / plain_s
        total_bytes = sum(len(value) + len(key or b"") for _, key, value, _ in messages)
        ratio = summary.events_per_s / plain_rate
        print(
            f"plain:   {len(messages)} events, {total_bytes / 1e6:.1f} MB in {plain_s:.2f}s: "
            f"{plain_rate:,.0f} events/s"
        )
        print(f"ratio:   ingest publishing / plain = {ratio:.2f}")
    finally:
        if not args.keep:
            delete_topics(base, [ours.topic_prefix, plain.topic_prefix])
    print(
        json.dumps(
            {
                "files": len(files),
                "rows_read": summary.rows_read,
                "transfers": summary.transfers,
                "events": events,
                "bytes": total_bytes,
                "as_requests": args.as_requests,
                "ingest_read_s": round(summary.elapsed_s - summary.publish_s, 3),
                "ingest_publish_s": round(summary.publish_s, 3),
                "ingest_events_per_s": round(summary.events_per_s, 1),
                "ingest_end_to_end_events_per_s": round(end_to_end, 1),
                "plain_s": round(plain_s, 3),
                "plain_events_per_s": round(plain_rate, 1),
                "ratio": round(ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
