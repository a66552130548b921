"""Ingesting on the real broker: summary counts equal what the topics hold, double rows are
gone, one player's events share a partition, and the generator is reproducible end to end."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest

from producers.ingest import ingest_csv, ingest_synthetic
from producers.synthetic import DriftSpec, generate
from schemas.codec import decode
from schemas.predictions import PredictionRequest
from schemas.records import PlayerRecord, TransferCompleted
from stack.settings import Settings
from stack.topic_admin import ensure_topics
from tests.producer_kafka import read_to_end
from tests.producer_samples import DATA_DIR

pytestmark = pytest.mark.integration
LEAGUE_FILE = DATA_DIR / "1-bundesliga.csv"


@pytest.mark.skipif(not LEAGUE_FILE.is_file(), reason="the Transfermarkt data folder is not here")
def test_one_league_file_counts_match_the_topics(settings: Settings) -> None:
    summary = ingest_csv(settings, [LEAGUE_FILE], seasons=(2005, 2012), as_requests=True)
    assert not summary.interrupted and summary.dead_lettered == 0
    assert summary.rows_read == (
        summary.outside_seasons
        + summary.duplicates_removed
        + sum(summary.unusable.values())
        + summary.transfers
    )
    assert summary.duplicates_removed > 0 and summary.unusable["loan"] > 0

    records = read_to_end(settings, "players.records")
    transfers = read_to_end(settings, "transfers.completed")
    requests = read_to_end(settings, "predictions.requests")
    assert summary.published == {
        "players.records": len(records),
        "transfers.completed": len(transfers),
        "predictions.requests": len(requests),
    }
    assert len(records) == len(transfers) == summary.transfers
    decoded = [decode(m.value(), m.headers(), expected=TransferCompleted) for m in transfers]
    assert len({t.transfer_id for t in decoded}) == len(decoded), "a transfer was published twice"
    assert {t.season for t in decoded} <= set(range(2005, 2013))
    paid = {t.transfer_id: t for t in decoded if t.fee_eur_m > 0}
    asked = [decode(m.value(), m.headers(), expected=PredictionRequest) for m in requests]
    assert sorted(r.transfer_id or "" for r in asked) == sorted(paid)
    for request in asked:
        assert request.requested_at == paid[request.transfer_id or ""].transferred_at

    # Keyed by player id: each player's record, requests and transfers share a partition number.
    partitions: dict[bytes, set[int]] = defaultdict(set)
    for message in (*records, *transfers, *requests):
        partitions[message.key() or b""].add(message.partition() or 0)
        event = decode(message.value(), message.headers())
        assert message.key() == event.player_id.encode()  # type: ignore[attr-defined]
    assert all(len(found) == 1 for found in partitions.values())
    # Within a partition, transfers are in event-time order.
    by_partition: dict[int, list[TransferCompleted]] = defaultdict(list)
    for message, transfer in zip(transfers, decoded, strict=True):
        by_partition[message.partition() or 0].append(transfer)
    for moves in by_partition.values():
        assert [t.transferred_at for t in moves] == sorted(t.transferred_at for t in moves)


def test_synthetic_same_seed_same_events_through_kafka(settings: Settings) -> None:
    other = settings.model_copy(update={"topic_prefix": f"t{uuid.uuid4().hex[:10]}."})
    ensure_topics(other)
    drift = DriftSpec(from_season=2002)
    first = ingest_synthetic(settings, seed=21, seasons=range(2000, 2004), per_season=120, drift=drift)
    second = ingest_synthetic(other, seed=21, seasons=range(2000, 2004), per_season=120, drift=drift)
    assert first.published == second.published == {"players.records": 480, "transfers.completed": 480}

    expected = list(generate(21, range(2000, 2004), 120, drift))
    for name, cls in (("players.records", PlayerRecord), ("transfers.completed", TransferCompleted)):
        one = [(m.partition(), m.key(), m.value()) for m in read_to_end(settings, name)]
        two = [(m.partition(), m.key(), m.value()) for m in read_to_end(other, name)]
        assert one == two  # same partitions, keys and bytes in the same order
        events = sorted((decode(v, expected=cls) for _, _, v in one), key=lambda e: e.event_id)
        assert events == sorted((e for e in expected if isinstance(e, cls)), key=lambda e: e.event_id)
