"""The synthetic generator: reproducible, chronological, plausible, and drifting on demand."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from producers.synthetic import DriftSpec, generate
from producers.synthetic_world import LEAGUES
from schemas.codec import encode
from schemas.records import PlayerRecord, TransferCompleted


def transfers(events: list[PlayerRecord | TransferCompleted]) -> list[TransferCompleted]:
    return [e for e in events if isinstance(e, TransferCompleted)]


def test_the_same_seed_gives_the_same_events_to_the_byte() -> None:
    first = list(generate(7, range(2000, 2004), 150))
    again = list(generate(7, range(2000, 2004), 150))
    assert first == again
    assert [encode(e)[1] for e in first] == [encode(e)[1] for e in again]
    other = list(generate(8, range(2000, 2004), 150))
    assert [e.event_id for e in other] != [e.event_id for e in first]


def test_a_record_then_a_transfer_per_move_in_chronological_order() -> None:
    events = list(generate(3, [2005, 2004], 200))
    assert len(events) == 2 * 2 * 200
    for record, transfer in zip(events[::2], events[1::2], strict=True):
        assert isinstance(record, PlayerRecord) and isinstance(transfer, TransferCompleted)
        assert (record.player_id, record.club, record.as_of) == (
            transfer.player_id,
            transfer.to_club,
            transfer.transferred_at,
        )
        assert transfer.from_club != transfer.to_club
    moved = transfers(events)
    times = [t.transferred_at for t in moved]
    assert times == sorted(times)
    assert [t.season for t in moved][0] == 2004
    assert len({t.transfer_id for t in moved}) == len(moved)
    assert len({e.event_id for e in events}) == len(events)


def test_plausible_values() -> None:
    moved = transfers(list(generate(11, range(2000, 2010), 300)))
    windows = Counter(t.window for t in moved)
    assert 0.6 < windows["summer"] / len(moved) < 0.8
    free = [t for t in moved if t.fee_eur_m == 0]
    assert 0.1 < len(free) / len(moved) < 0.35
    paid = [t.fee_eur_m for t in moved if t.fee_eur_m > 0]
    assert 0.5 < statistics.median(paid) < 5.0
    assert all(15 <= (t.age or 0) <= 45 for t in moved)
    assert {t.to_league for t in moved} == {league.name for league in LEAGUES}
    # A player's moves chain: each starts at the club the previous one ended at.
    last_club: dict[str, str] = {}
    for t in moved:
        if t.player_id in last_club:
            assert t.from_club == last_club[t.player_id]
        last_club[t.player_id] = t.to_club


def test_drift_changes_fees_ages_and_league_mix_from_its_season_on() -> None:
    seasons = range(2000, 2006)
    drift = DriftSpec(from_season=2003, fee_inflation=3.0, age_shift=4.0, league_shift=0.6)
    plain = transfers(list(generate(5, seasons, 400)))
    drifted = transfers(list(generate(5, seasons, 400, drift)))
    assert [t for t in plain if t.season < 2003] == [t for t in drifted if t.season < 2003]

    def stats(moves: list[TransferCompleted]) -> tuple[float, float, float]:
        late = [t for t in moves if t.season >= 2003]
        fee = statistics.median(t.fee_eur_m for t in late if t.fee_eur_m > 0)
        age = statistics.mean(t.age or 0 for t in late)
        share = sum(t.to_league == drift.league for t in late) / len(late)
        return fee, age, share

    (fee0, age0, share0), (fee1, age1, share1) = stats(plain), stats(drifted)
    assert fee1 > 1.8 * fee0
    assert age1 > age0 + 1.0
    assert share1 > share0 + 0.3


def test_drift_knobs_are_checked() -> None:
    with pytest.raises(ValueError):
        DriftSpec(2010, fee_inflation=0)
    with pytest.raises(ValueError):
        DriftSpec(2010, league_shift=1.5)
    with pytest.raises(ValueError):
        DriftSpec(2010, league="Nowhere League")


def test_nothing_to_generate() -> None:
    assert list(generate(1, [], 10)) == []
    assert list(generate(1, [2000], 0)) == []
