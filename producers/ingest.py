"""Publish ingested data: CSV files or the synthetic generator -> Kafka, with a summary.

Per transfer: a PlayerRecord (players.records), then with ``as_requests`` and a paid fee a
PredictionRequest (predictions.requests, the replay's question: request id
``replay-<transfer_id>``, asked at the transfer's own time), then the TransferCompleted
(transfers.completed). All three are keyed by player id, so one player's events share a
partition number. CSV rows that cannot be parsed go to the dead-letter topic first.

Ctrl-C stops producing, flushes what was queued and returns a summary marked interrupted.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from producers.csv_rows import BadRow
from producers.exceptions import DeliveryError
from producers.publisher import KafkaPublisher, Publisher, RateLimiter
from producers.stats import SOURCE as STATS_SOURCE
from producers.stats import StatsReadResult, read_stats
from producers.synthetic import DriftSpec, generate
from producers.transfermarkt import SOURCE as CSV_SOURCE
from producers.transfermarkt import CsvReadResult, SeasonRange, read_transfers_csv
from schemas.codec import dead_letter
from schemas.envelope import Event
from schemas.predictions import request_from_transfer
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats
from schemas.topics import (
    DEAD_LETTERS,
    PLAYERS_RECORDS,
    PLAYERS_SEASON_STATS,
    PREDICTIONS_REQUESTS,
    TRANSFERS_COMPLETED,
    TopicSpec,
)
from stack.settings import Settings

Progress = Callable[[int, int], None]  # (events handed to the producer, events planned)
PROGRESS_EVERY = 200
CSV_ROW_ERROR = "CsvRowError"


@dataclass
class IngestSummary:
    """What an ingest read, left out and published (confirmed by the broker, per topic)."""

    source: str
    rows_read: int = 0
    outside_seasons: int = 0
    duplicates_removed: int = 0
    unusable: Counter[str] = field(default_factory=Counter)
    dead_lettered: int = 0
    transfers: int = 0
    stats: Counter[str] = field(default_factory=Counter)  # season rows: matched, ambiguous, unmatched
    requests: int = 0
    planned: int = 0
    published: Counter[str] = field(default_factory=Counter)
    interrupted: bool = False
    elapsed_s: float = 0.0
    publish_s: float = 0.0

    @property
    def events_published(self) -> int:
        return sum(self.published.values())

    @property
    def events_per_s(self) -> float:
        """Published events per second of publishing (reading the input not included)."""
        return self.events_published / self.publish_s if self.publish_s > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "outside_seasons": self.outside_seasons,
            "duplicates_removed": self.duplicates_removed,
            "unusable": dict(self.unusable),
            "dead_lettered": self.dead_lettered,
            "transfers": self.transfers,
            "stats": dict(self.stats),
            "requests": self.requests,
            "published": dict(self.published),
            "interrupted": self.interrupted,
            "elapsed_s": round(self.elapsed_s, 3),
            "events_per_s": round(self.events_per_s, 1),
        }


def transfer_events(
    events: Iterable[PlayerRecord | TransferCompleted | PlayerSeasonStats], as_requests: bool
) -> Iterator[tuple[TopicSpec, Event]]:
    """Each event with its topic; with ``as_requests`` a replay request before each paid fee."""
    for event in events:
        if isinstance(event, PlayerSeasonStats):
            yield PLAYERS_SEASON_STATS, event
        elif isinstance(event, TransferCompleted):
            if as_requests and event.fee_eur_m > 0:
                yield PREDICTIONS_REQUESTS, request_from_transfer(event)
            yield TRANSFERS_COMPLETED, event
        else:
            yield PLAYERS_RECORDS, event


def bad_row_letters(rows: Iterable[BadRow], source: str) -> list[tuple[TopicSpec, Event]]:
    """A dead letter per unparseable row, with its raw line and where it was."""
    return [
        (
            DEAD_LETTERS,
            dead_letter(
                bad.raw,
                bad.reason,
                f"csv:{Path(bad.path).name}",
                source=source,
                error_type=CSV_ROW_ERROR,
                headers=[("csv_path", bad.path), ("csv_line", str(bad.line))],
            ),
        )
        for bad in rows
    ]


def csv_events(result: CsvReadResult, as_requests: bool) -> list[tuple[TopicSpec, Event]]:
    """Everything an ingest of ``result`` publishes, in order: dead letters, then the events."""
    flat = (event for pair in result.pairs() for event in pair)
    return bad_row_letters(result.unparseable, CSV_SOURCE) + list(transfer_events(flat, as_requests))


def stats_events(result: StatsReadResult) -> list[tuple[TopicSpec, Event]]:
    """Everything a stats ingest publishes: dead letters, then the seasons in time order."""
    letters = bad_row_letters(result.unparseable, STATS_SOURCE)
    return letters + [(PLAYERS_SEASON_STATS, event) for event in result.events]


def ingest_csv(
    settings: Settings,
    paths: Iterable[Path | str],
    *,
    seasons: SeasonRange | None = None,
    max_rows: int | None = None,
    as_requests: bool = False,
    rate: float | None = None,
    publisher: Publisher | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Read Transfermarkt CSV files and publish them; see the module docstring."""
    started = time.monotonic()
    result = read_transfers_csv(paths, seasons=seasons, max_rows=max_rows)
    summary = IngestSummary(
        source="csv",
        rows_read=result.rows_read,
        outside_seasons=result.outside_seasons,
        duplicates_removed=result.duplicates_removed,
        unusable=Counter(result.unusable),
        transfers=len(result.transfers),
    )
    return _publish(settings, summary, csv_events(result, as_requests), started, rate, publisher, progress)


def ingest_stats(
    settings: Settings,
    paths: Iterable[Path | str],
    transfer_paths: Iterable[Path | str],
    *,
    max_rows: int | None = None,
    rate: float | None = None,
    publisher: Publisher | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Read season files, resolve them to the players of the transfer files, publish them."""
    started = time.monotonic()
    result = read_stats(paths, transfer_paths, max_rows=max_rows)
    summary = IngestSummary(source="stats", rows_read=result.rows_read)
    summary.stats.update(matched=result.matched, ambiguous=result.ambiguous, unmatched=result.unmatched)
    summary.stats.update(
        {f"unmatched: {reason}": count for reason, count in result.unmatched_reasons.items()}
    )
    return _publish(settings, summary, stats_events(result), started, rate, publisher, progress)


def ingest_synthetic(
    settings: Settings,
    *,
    seed: int = 42,
    seasons: Iterable[int] = range(2000, 2021),
    per_season: int = 500,
    drift: DriftSpec | None = None,
    as_requests: bool = False,
    rate: float | None = None,
    publisher: Publisher | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Generate synthetic transfers (producers.synthetic) and publish them."""
    started = time.monotonic()
    planned = list(transfer_events(generate(seed, seasons, per_season, drift), as_requests))
    summary = IngestSummary(source="synthetic")
    summary.transfers = sum(spec is TRANSFERS_COMPLETED for spec, _ in planned)
    return _publish(settings, summary, planned, started, rate, publisher, progress)


def _publish(
    settings: Settings,
    summary: IngestSummary,
    planned: Sequence[tuple[TopicSpec, Event]],
    started: float,
    rate: float | None,
    publisher: Publisher | None,
    progress: Progress | None,
) -> IngestSummary:
    summary.planned = len(planned)
    summary.requests = sum(spec is PREDICTIONS_REQUESTS for spec, _ in planned)
    summary.dead_lettered = sum(spec is DEAD_LETTERS for spec, _ in planned)
    publisher = publisher or KafkaPublisher(settings)
    before = Counter(publisher.delivered)  # a publisher passed in may have counted earlier runs
    limiter = RateLimiter(rate)
    publish_started = time.monotonic()
    done = 0
    try:
        for spec, event in planned:
            limiter.wait(publisher.poll)
            publisher.publish(spec, event)
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, len(planned))
    except KeyboardInterrupt:
        summary.interrupted = True
    except BaseException:
        with contextlib.suppress(DeliveryError):
            publisher.close()
        raise
    publisher.close()
    if progress is not None:
        progress(done, len(planned))
    finished = time.monotonic()
    summary.published = Counter(publisher.delivered) - before
    summary.publish_s = finished - publish_started
    summary.elapsed_s = finished - started
    return summary
