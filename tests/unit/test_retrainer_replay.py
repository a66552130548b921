"""The retrainer's replay of the history: on top of the last one only when that is exact."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pandas as pd

from features.training_set import build_training_set
from retrainer.replay import HistoryReplay
from schemas.examples import example_of
from schemas.records import TransferCompleted
from schemas.season_stats import PlayerSeasonStats, season_end

PLAYERS = [f"p{i}" for i in range(40)]


def transfers(seed: int = 3) -> list[TransferCompleted]:
    """Transfers of 40 players over 2014-2019, half of them paid, in time order."""
    rng = random.Random(seed)
    at, out = datetime(2014, 7, 1, tzinfo=UTC), []
    for i in range(600):
        at += timedelta(hours=rng.randint(1, 160))
        frm, to = rng.sample([f"club-{c}" for c in range(12)], 2)
        out.append(
            example_of(
                TransferCompleted,
                transfer_id=f"t{i}",
                player_id=rng.choice(PLAYERS),
                from_club=frm,
                to_club=to,
                fee_eur_m=rng.choice([0.0, 0.5, 3.0, 12.0]),
                transferred_at=at,
                from_league="L1",
                to_league="L1",
                age=None,
            )  # fmt: skip
        )
    return out


def stats(season: int, team: str = "Team", minutes: int = 900) -> list[PlayerSeasonStats]:
    """A season's records of every player, known at the end of that season."""
    return [
        example_of(
            PlayerSeasonStats,
            player_id=p,
            season=season,
            team=team,
            minutes=minutes + i,
            known_at=season_end(season),
        )  # fmt: skip
        for i, p in enumerate(PLAYERS)
    ]


def ordered(events: list[PlayerSeasonStats]) -> list[PlayerSeasonStats]:
    return sorted(events, key=lambda s: (s.known_at, s.player_id, s.season, s.team))


def test_windows_of_records_and_transfers_extend_the_replay_to_the_full_replays_frame() -> None:
    history, records = transfers(), [s for season in range(2013, 2020) for s in stats(season)]
    replay = HistoryReplay()
    cuts = [datetime(year, month, 1, tzinfo=UTC) for year in range(2015, 2021) for month in (2, 9)]
    for cut in cuts:  # each read: what was published up to the end of a window
        seen_stats = ordered([s for s in records if s.known_at <= cut])
        seen = [t for t in history if t.transferred_at <= cut]
        frame = replay.frame(seen_stats, seen)
        pd.testing.assert_frame_equal(frame, build_training_set([*seen_stats, *seen]))
    assert replay.full_replays == 0  # never replayed again: each read went on from the last
    assert frame["has_record"].sum() > 0  # the records were read by the rows after them


def test_a_corrected_record_or_one_rows_could_read_replays_from_the_start() -> None:
    history, first = transfers(), ordered(stats(2014) + stats(2015))
    replay = HistoryReplay()
    upto = [t for t in history if t.transferred_at <= datetime(2016, 9, 1, tzinfo=UTC)]
    replay.frame(first, upto)
    # The same 2015 lines corrected (more minutes), known later: earlier rows read the old ones.
    corrected = ordered(first + [s.model_copy(update={"known_at": datetime(2016, 10, 1, tzinfo=UTC)})
                                 for s in stats(2015, minutes=2000)])  # fmt: skip
    frame = replay.frame(corrected, upto)
    pd.testing.assert_frame_equal(frame, build_training_set([*corrected, *upto]))
    assert replay.full_replays == 1
    # A record known before the last transfer replayed: the rows after it could read it.
    early = ordered(corrected + stats(2014, team="Other"))
    assert max(s.known_at for s in stats(2014)) < upto[-1].transferred_at
    later = [t for t in history if t.transferred_at <= datetime(2017, 3, 1, tzinfo=UTC)]
    frame = replay.frame(early, later)
    pd.testing.assert_frame_equal(frame, build_training_set([*early, *later]))
    assert replay.full_replays == 2
