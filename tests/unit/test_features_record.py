"""Season records as features: point in time, one code path online and in replay."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from features.history import epoch
from features.record import (
    NO_RECORD_GAP,
    POSITION_P90,
    RECORD_FEATURES,
    league_games,
    record_features,
    shrunk_p90,
)
from features.state import ClubState, MarketState, PlayerState
from features.store import InMemoryFeatureStore
from features.training_set import build_training_set
from features.update import update_club, update_market, update_player
from features.vector import FEATURE_NAMES, vector
from schemas.codec import decode, encode
from schemas.examples import example_of
from schemas.predictions import PredictionRequest, request_from_transfer
from schemas.season_stats import PlayerSeasonStats, PlayerSeasonStatsV1, season_end
from tests.stats_samples import transfer


def stats(
    player: str, season: int, team: str = "Arsenal", minutes: int = 1800, goals: int = 10
) -> PlayerSeasonStats:
    return example_of(
        PlayerSeasonStats, player_id=player, season=season, team=team, minutes=minutes, goals=goals,
        known_at=season_end(season),
    )  # fmt: skip


def request_at(moment: datetime, season: int, window: str = "summer") -> PredictionRequest:
    return example_of(PredictionRequest, player_id="p1", requested_at=moment, season=season, window=window)


def features_at(state: PlayerState, moment: datetime, season: int) -> dict[str, float]:
    return record_features(state, epoch(moment), season, "Forward")


def goals_p90(goals: float, minutes: float) -> float:
    """A forward's goals per 90, shrunk toward the forwards' rate."""
    return shrunk_p90(goals, minutes, POSITION_P90["Forward"]["goals"])


def folded(*events: PlayerSeasonStats) -> PlayerState:
    state = None
    for event in events:
        state = update_player(state, event)
    assert state is not None
    return state


def test_a_season_is_unseen_before_it_ends() -> None:
    state = folded(stats("p1", 2015, goals=18))
    inside = features_at(state, datetime(2016, 3, 1, tzinfo=UTC), 2015)
    assert inside["has_record"] == 0.0 and inside["record_seasons_ago"] == NO_RECORD_GAP
    at_the_end = features_at(state, season_end(2015), 2016)
    assert at_the_end["has_record"] == 0.0  # strictly before: the moment itself is not enough
    summer = features_at(state, datetime(2016, 7, 10, tzinfo=UTC), 2016)
    assert summer["has_record"] == 1.0
    assert summer["record_goals_p90"] == pytest.approx(goals_p90(18, 1800))


def test_a_winter_request_sees_only_the_previous_completed_season() -> None:
    state = folded(stats("p1", 2015, goals=5), stats("p1", 2016, goals=20))
    winter = features_at(state, datetime(2017, 1, 20, tzinfo=UTC), 2016)
    assert winter["record_goals_p90"] == pytest.approx(goals_p90(5, 1800))
    assert winter["record_seasons_ago"] == 1.0
    summer = features_at(state, datetime(2017, 7, 20, tzinfo=UTC), 2017)
    assert summer["record_goals_p90"] == pytest.approx(goals_p90(20, 1800))


def test_two_teams_of_one_season_are_summed() -> None:
    state = folded(stats("p1", 2015, "Arsenal", 900, 2), stats("p1", 2015, "Everton", 900, 4))
    out = features_at(state, datetime(2016, 8, 1, tzinfo=UTC), 2016)
    assert out["record_minutes"] == 1800.0 and out["record_games"] == 76.0
    assert out["record_goals_p90"] == pytest.approx(goals_p90(6, 1800))


def test_a_redelivered_season_is_a_no_op_and_a_corrected_one_replaces_it() -> None:
    state = folded(stats("p1", 2015, goals=3))
    assert update_player(state, stats("p1", 2015, goals=3)) is state
    corrected = update_player(state, stats("p1", 2015, goals=4))
    assert [line.goals for line in corrected.seasons] == [4]


def test_no_minutes_gives_the_positions_typical_rates_not_nan() -> None:
    out = features_at(folded(stats("p1", 2015, minutes=0, goals=0)), datetime(2016, 8, 1, tzinfo=UTC), 2016)
    assert out["has_record"] == 1.0
    assert out["record_goals_p90"] == pytest.approx(POSITION_P90["Forward"]["goals"])  # no goals, no minutes
    assert all(math.isfinite(value) for value in out.values())


def test_few_minutes_are_shrunk_toward_the_position_and_many_barely() -> None:
    cameo = features_at(
        folded(stats("p1", 2015, minutes=90, goals=2)), datetime(2016, 8, 1, tzinfo=UTC), 2016
    )
    season = features_at(
        folded(stats("p1", 2015, minutes=3000, goals=20)), datetime(2016, 8, 1, tzinfo=UTC), 2016
    )
    assert POSITION_P90["Forward"]["goals"] < cameo["record_goals_p90"] < 0.5  # not the raw 2.0 a game
    prior, raw = POSITION_P90["Forward"]["goals"], 90 * 20 / 3000
    assert prior + 0.5 * (raw - prior) < season["record_goals_p90"] < raw  # a full season mostly speaks


def test_the_two_last_seasons_give_the_trend_and_only_completed_ones_count() -> None:
    state = folded(
        stats("p1", 2014, minutes=2000, goals=4), stats("p1", 2015, minutes=3000, goals=20),
        stats("p1", 2016, minutes=3000, goals=30),
    )  # fmt: skip
    winter = features_at(state, datetime(2017, 1, 20, tzinfo=UTC), 2016)  # 2016/17 is not over
    assert (winter["record_minutes"], winter["record_prev_minutes"]) == (3000.0, 2000.0)
    assert winter["record_minutes_trend"] == 1000.0
    assert winter["record_xgxa_trend"] == pytest.approx(
        winter["record_xgxa_p90"] - winter["record_prev_xgxa_p90"]
    )
    assert winter["record_career_seasons"] == 2.0 and winter["record_career_minutes"] == 5000.0
    alone = features_at(folded(stats("p1", 2015)), datetime(2016, 8, 1, tzinfo=UTC), 2016)
    assert alone["record_prev_minutes"] == 0.0 and alone["record_xgxa_trend"] == 0.0


def test_state_with_seasons_survives_its_json_form() -> None:
    state = update_player(
        folded(stats("p1", 2014), stats("p1", 2015, "Everton")), transfer("p1", "X", "A", "B", 2016)
    )
    assert PlayerState.from_dict(state.to_dict()) == state
    assert state.paid_moves.entries and len(state.seasons) == 2  # a transfer keeps the seasons


def test_the_vector_carries_every_record_feature() -> None:
    out = vector(
        request_at(datetime(2016, 8, 1, tzinfo=UTC), 2016), folded(stats("p1", 2015)), None, None, None
    )
    assert set(RECORD_FEATURES) <= set(out) and list(out) == list(FEATURE_NAMES)


def test_the_season_end_is_enforced_by_the_contract() -> None:
    with pytest.raises(ValidationError, match="before season 2015 ended"):
        example_of(PlayerSeasonStats, season=2015, known_at=datetime(2016, 3, 1, tzinfo=UTC))


def _history(seed: int = 3) -> tuple[list[PlayerSeasonStats], list]:  # type: ignore[type-arg]
    rng = random.Random(seed)
    players = [f"p{i}" for i in range(30)]
    clubs = [f"club-{i}" for i in range(8)]
    seasons = [
        stats(p, season, rng.choice(clubs), rng.randint(0, 3000), rng.randint(0, 20))
        for p in players
        for season in range(2014, 2020)
        if rng.random() < 0.8
    ]
    transfers = []
    for i in range(150):
        season = rng.randint(2015, 2020)
        window = rng.choice(("summer", "winter"))
        a, b = rng.sample(clubs, 2)
        fee = rng.choice((0.0, rng.uniform(0.5, 60)))
        transfers.append(transfer(rng.choice(players), "X", a, b, season, fee, window, transfer_id=f"t{i}"))
    transfers.sort(key=lambda t: (t.transferred_at, t.transfer_id))
    return seasons, transfers


def test_online_vectors_equal_the_replay_with_records_present() -> None:
    """The replay folds the records first; a worker reads them interleaved in time, through
    its table's JSON form: every paid transfer gets the same vector either way."""
    seasons, transfers = _history()
    frame = build_training_set([*seasons, *transfers]).set_index("transfer_id")
    assert frame["has_record"].mean() > 0.5

    timeline = sorted(
        [*seasons, *transfers],
        key=lambda e: epoch(e.known_at if isinstance(e, PlayerSeasonStats) else e.transferred_at),
    )
    table: dict[str, dict] = {}  # type: ignore[type-arg]
    clubs: dict[str, ClubState] = {}
    market: MarketState | None = None
    checked = 0
    for event in timeline:
        if not isinstance(event, PlayerSeasonStats) and event.fee_eur_m > 0:
            request = request_from_transfer(event)
            player = table.get(event.player_id)
            online = vector(
                request, None if player is None else PlayerState.from_dict(player),
                clubs.get(request.from_club), clubs.get(request.to_club), market,
            )  # fmt: skip
            assert online == frame.loc[event.transfer_id, list(FEATURE_NAMES)].to_dict()
            checked += 1
        previous = table.get(event.player_id)
        table[event.player_id] = update_player(
            None if previous is None else PlayerState.from_dict(previous), event
        ).to_dict()
        if not isinstance(event, PlayerSeasonStats):
            for club in dict.fromkeys((event.from_club, event.to_club)):
                clubs[club] = update_club(clubs.get(club), event, club)
            market = update_market(market, event)
    assert checked == len(frame)


def test_records_read_ahead_do_not_leak() -> None:
    """All seasons folded before any transfer (stats ingested first): no request sees a season
    that had not ended at its time."""
    seasons, transfers = _history()
    store = InMemoryFeatureStore()
    for event in seasons:
        store.apply(event)
    for t in transfers:
        out = store.vector_for(request_from_transfer(t))
        if out["has_record"]:
            newest = t.season - out["record_seasons_ago"]
            assert season_end(int(newest)) < t.transferred_at


def test_a_state_kept_before_seasons_had_a_league_still_loads() -> None:
    state = folded(stats("p1", 2015))
    old = state.to_dict()
    old["seasons"] = [row[:12] for row in old["seasons"]]  # the form before the league was kept
    (line,) = PlayerState.from_dict(old).seasons
    new = state.seasons[0]
    assert (line.league, line.npxg, line.xg_buildup) == ("", 0.0, 0.0)
    assert line.team_xg == 0.0  # nor team totals (kept later still)
    assert line._replace(league=new.league, npxg=new.npxg, xg_buildup=new.xg_buildup)[:15] == new[:15]


def test_a_state_kept_before_seasons_had_npxg_and_buildup_still_loads() -> None:
    state = folded(stats("p1", 2015))
    old = state.to_dict()
    old["seasons"] = [row[:13] for row in old["seasons"]]  # league kept, npxG and xGBuildup not yet
    (line,) = PlayerState.from_dict(old).seasons
    new = state.seasons[0]
    assert new.xg_buildup > 0 and (line.league, line.npxg, line.xg_buildup) == (new.league, 0.0, 0.0)
    assert PlayerState.from_dict(state.to_dict()).seasons == state.seasons  # the new form round-trips


def test_minutes_share_counts_the_league_games_and_young_minutes_need_an_age_under_23() -> None:
    state = folded(stats("p1", 2015, minutes=1530))
    moment = epoch(datetime(2016, 7, 1, tzinfo=UTC))
    league = state.seasons[0].league
    games = 34.0 if league == "Bundesliga" else 38.0
    young = record_features(state, moment, 2016, "Forward", age=21.0)
    assert young["record_minutes_share"] == pytest.approx(1530 / (90 * games))
    assert young["record_xgxa_share"] == pytest.approx(young["record_xgxa_p90"] * 1530 / (90 * games))
    assert young["record_young_minutes"] == 1530.0
    assert record_features(state, moment, 2016, "Forward", age=29.0)["record_young_minutes"] == 0.0
    assert record_features(state, moment, 2016, "Forward")["record_young_minutes"] == 0.0  # age unknown


def test_the_team_features_read_the_main_teams_totals() -> None:
    main = stats("p1", 2015, team="Arsenal", minutes=2500)
    other = stats("p1", 2015, team="Watford", minutes=400).model_copy(
        update={"team_xg": 30.0, "team_xa": 20.0, "team_goals": 25}
    )
    out = record_features(folded(main, other), epoch(datetime(2016, 7, 1, tzinfo=UTC)), 2016, "Forward")
    games = league_games(main.league, 2015)
    assert main.team_xg and main.team_xa and main.team_goals  # the example carries them
    assert out["record_team_xg_pg"] == pytest.approx(main.team_xg / games)  # the team he played most for
    assert out["record_team_goals_pg"] == pytest.approx(main.team_goals / games)
    assert out["record_team_share"] == pytest.approx((main.xg + main.xa) / (main.team_xg + main.team_xa))
    assert out["record_team_xg_share"] == pytest.approx(main.xg / main.team_xg)


def test_a_version_1_season_record_upgrades_with_its_team_unknown() -> None:
    _, raw, headers = encode(
        example_of(PlayerSeasonStatsV1, player_id="p1", season=2015, known_at=season_end(2015))
    )
    event = decode(raw, headers, expected=PlayerSeasonStats)
    assert type(event) is PlayerSeasonStats and event.schema_version == 2 and event.team_xg is None
    out = record_features(folded(event), epoch(datetime(2016, 7, 1, tzinfo=UTC)), 2016, "Forward")
    assert out["has_record"] == 1.0
    assert [out[f"record_team_{name}"] for name in ("xg_pg", "goals_pg", "share", "xg_share")] == [0.0] * 4


def test_a_state_kept_before_seasons_had_team_totals_still_loads() -> None:
    state = folded(stats("p1", 2015))
    old = state.to_dict()
    old["seasons"] = [row[:15] for row in old["seasons"]]  # npxG and xGBuildup kept, team totals not yet
    (line,) = PlayerState.from_dict(old).seasons
    new = state.seasons[0]
    assert new.team_xg > 0 and (line.team_xg, line.team_xa, line.team_goals) == (0.0, 0.0, 0.0)
    assert line._replace(team_xg=new.team_xg, team_xa=new.team_xa, team_goals=new.team_goals) == new
