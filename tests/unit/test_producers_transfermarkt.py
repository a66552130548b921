"""From rows to events: dedupe, buyer and seller, stable ids, chronological order, accounting."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from producers.dedupe import Move
from producers.fees import Fee
from producers.identity import PlayerIds
from producers.names import looks_like
from producers.transfermarkt import _chain, parse_season_range, read_transfers_csv
from tests.producer_samples import (
    BAD,
    CHAMPIONSHIP,
    DATA_DIR,
    DUPLICATES,
    EXPECTED_UNUSABLE,
    PAID,
    PL,
    ROWS_READ,
    TRANSFERS,
    row,
    write_csv,
)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [write_csv(tmp_path / "pl.csv", PL, BAD), write_csv(tmp_path / "championship.csv", CHAMPIONSHIP)]


def by_player(result, name: str):  # type: ignore[no-untyped-def]
    return [t for t in result.transfers if t.player_name == name]


def test_every_row_is_accounted_for(files: list[Path]) -> None:
    result = read_transfers_csv(files)
    assert result.rows_read == ROWS_READ
    assert len(result.unparseable) == len(BAD)
    assert result.duplicates_removed == DUPLICATES
    assert dict(result.unusable) == EXPECTED_UNUSABLE
    assert len(result.transfers) == len(result.players) == TRANSFERS
    assert sum(t.fee_eur_m > 0 for t in result.transfers) == PAID
    assert result.rows_read == (
        len(result.unparseable) + result.outside_seasons + result.duplicates_removed
        + sum(result.unusable.values()) + len(result.transfers)
    )  # fmt: skip
    assert len({t.transfer_id for t in result.transfers}) == TRANSFERS


def test_in_and_out_rows_become_one_transfer_with_buyer_and_seller(files: list[Path]) -> None:
    result = read_transfers_csv(files)
    (berbatov,) = by_player(result, "Dimitar Berbatov")
    assert (berbatov.from_club, berbatov.to_club) == ("Tottenham Hotspur", "Manchester United")
    assert (berbatov.from_league, berbatov.to_league, berbatov.fee_eur_m) == (
        "Premier League",
        "Premier League",
        38.0,
    )
    (foster,) = by_player(result, "Ben Foster")  # its two rows are in two files
    assert (foster.from_club, foster.to_club, foster.fee_eur_m) == ("Watford FC", "Manchester United", 0.0)
    assert (foster.from_league, foster.to_league) == ("Championship", "Premier League")
    (modric,) = by_player(result, "Luka Modric")
    assert (modric.from_club, modric.from_league, modric.to_club) == (
        "Dinamo Zagreb",
        None,
        "Tottenham Hotspur",
    )


def test_a_learned_alias_names_the_seller_of_a_one_sided_transfer(files: list[Path]) -> None:
    (reject,) = by_player(read_transfers_csv(files), "Spurs Reject")
    assert not looks_like("Spurs", "Tottenham Hotspur")  # only the alias can know
    assert (reject.from_club, reject.from_league) == ("Tottenham Hotspur", "Premier League")


def test_release_and_signing_in_one_window_are_two_moves(files: list[Path]) -> None:
    moves = by_player(read_transfers_csv(files), "Paul Robinson")
    assert sorted((t.from_club, t.to_club) for t in moves) == [
        ("Tottenham Hotspur", "Without Club"),
        ("Without Club", "Manchester United"),
    ]
    assert len({t.player_id for t in moves}) == 1


def test_free_transfers_are_published_with_fee_zero_and_ages_out_of_range_dropped(files: list[Path]) -> None:
    result = read_transfers_csv(files)
    assert [t.fee_eur_m for t in by_player(result, "Ben Foster")] == [0.0]
    (old,) = by_player(result, "Old Timer")
    assert old.age is None and result.ages_dropped == 1


def test_order_is_chronological_total_and_records_match_transfers(files: list[Path]) -> None:
    result = read_transfers_csv(files)
    times = [t.transferred_at for t in result.transfers]
    assert times == sorted(times) and len(set(times)) == len(times)
    seasons_windows = [(t.season, t.window) for t in result.transfers]
    assert seasons_windows[0] == (2007, "summer") and seasons_windows[-1] == (2008, "winter")
    for record, transfer in result.pairs():
        assert (record.player_id, record.club, record.league) == (
            transfer.player_id,
            transfer.to_club,
            transfer.to_league,
        )
        assert record.as_of == transfer.transferred_at and record.trace_id == transfer.trace_id
        assert record.event_id != transfer.event_id


def test_one_players_moves_in_a_window_follow_the_chain_of_clubs(files: list[Path]) -> None:
    first, second = by_player(read_transfers_csv(files), "Chain Player")
    assert (first.from_club, first.to_club, second.from_club) == (
        "Ajax",
        "Tottenham Hotspur",
        "Tottenham Hotspur",
    )
    rows = ()
    a_to_b = Move(
        rows,
        "X",
        24,
        2008,
        "summer",
        Fee("paid", 1.0),
        buyer="B",
        seller="A",
        to_league=None,
        from_league=None,
    )
    b_to_c = Move(
        rows,
        "X",
        24,
        2008,
        "summer",
        Fee("paid", 1.0),
        buyer="C",
        seller="B",
        to_league=None,
        from_league=None,
    )
    assert _chain([("t-9", b_to_c), ("t-1", a_to_b)]) == ["t-1", "t-9"]
    assert _chain([("t-1", b_to_c), ("t-9", a_to_b)]) == ["t-9", "t-1"]


def test_ids_times_and_events_are_stable_across_reads_and_file_order(files: list[Path]) -> None:
    first = read_transfers_csv(files)
    again = read_transfers_csv(files)
    assert first.transfers == again.transfers and first.players == again.players
    reversed_files = read_transfers_csv(list(reversed(files)))
    assert {t.transfer_id: t for t in reversed_files.transfers} == {t.transfer_id: t for t in first.transfers}


def test_seasons_and_max_rows(files: list[Path]) -> None:
    only_2007 = read_transfers_csv(files, seasons=(2007, 2007))
    assert [t.player_name for t in only_2007.transfers] == ["Early Bird"]
    assert only_2007.outside_seasons == ROWS_READ - len(BAD) - 1
    first_rows = read_transfers_csv(files, max_rows=2)
    assert first_rows.rows_read == 2 and first_rows.duplicates_removed == 1
    assert [t.player_name for t in first_rows.transfers] == ["Dimitar Berbatov"]


def test_a_seasons_subset_keeps_the_player_and_transfer_ids_of_the_whole_files(tmp_path: Path) -> None:
    # Born 1990 by the 2010 row, 1991 by the 2011 row: one player, whose id the whole read
    # anchors at 1990; a read of 2011 alone must give him that id, not one anchored at 1991.
    rows = [
        row(
            "Arsenal FC",
            "Jo Wobble",
            "20",
            "Centre-Forward",
            "Leeds",
            "€1.00m",
            "in",
            season=2010,
            cleaned="1.0",
        ),
        row(
            "Chelsea FC",
            "Jo Wobble",
            "20",
            "Centre-Forward",
            "Gunners",
            "€2.00m",
            "in",
            season=2011,
            cleaned="2.0",
        ),
        row(
            "Arsenal FC",
            "Jo Wobble",
            "22",
            "Centre-Forward",
            "Chelsea",
            "€3.00m",
            "in",
            season=2012,
            cleaned="3.0",
        ),
    ]
    path = write_csv(tmp_path / "wobble.csv", rows)
    whole = {(t.season, t.player_id, t.transfer_id) for t in read_transfers_csv([path]).transfers}
    subset = read_transfers_csv([path], seasons=(2011, 2011))
    assert [(t.season, t.player_id, t.transfer_id) for t in subset.transfers] == [
        entry for entry in sorted(whole) if entry[0] == 2011
    ]
    assert len({pid for _, pid, _ in whole}) == 1
    assert subset.rows_read == subset.outside_seasons + subset.duplicates_removed + len(subset.transfers)


def test_folders_are_read_by_their_csv_files(files: list[Path]) -> None:
    assert read_transfers_csv([files[0].parent]).transfers == read_transfers_csv(sorted(files)).transfers


def test_player_ids_link_a_players_years_and_split_namesakes() -> None:
    ids = PlayerIds(
        [("Carlos García", 1980), ("Carlos Garcia", 1981), ("Carlos García", 1990), ("Solo", None)]
    )
    assert ids.player_id("Carlos García", 1980) == ids.player_id("CARLOS GARCIA", 1981)
    assert ids.player_id("Carlos García", 1980) != ids.player_id("Carlos García", 1990)
    assert ids.player_id("Carlos García", None) not in {
        ids.player_id("Carlos García", y) for y in (1980, 1990)
    }
    single = PlayerIds([("Ann", 1990), ("Ann", None)])
    assert single.player_id("Ann", None) == single.player_id("Ann", 1990)


@pytest.mark.parametrize(
    ("short", "full", "same"),
    [
        ("Bor. Dortmund", "Borussia Dortmund", True),
        ("Man Utd", "Manchester United", True),
        ("QPR", "Queens Park Rangers", True),
        ("Paris SG", "Paris Saint-Germain", True),
        ("Atlético Madrid", "Atlético de Madrid", True),
        ("Man City", "Manchester United", False),
        ("Real Madrid", "Real Sociedad", False),
        ("Without Club", "Wigan Athletic", False),
    ],
)
def test_club_names_that_look_alike(short: str, full: str, same: bool) -> None:
    assert looks_like(short, full) is same


def test_season_ranges() -> None:
    assert parse_season_range("2000-2012") == (2000, 2012)
    assert parse_season_range(" 2015 ") == (2015, 2015)
    for bad in ("2012-2000", "twenty", "2000-"):
        with pytest.raises(ValueError):
            parse_season_range(bad)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason="the Transfermarkt data folder is not here")
def test_two_real_league_files() -> None:
    files = [DATA_DIR / "premier-league.csv", DATA_DIR / "championship.csv"]
    result = read_transfers_csv(files)
    assert not result.unparseable
    assert result.rows_read == (
        result.outside_seasons
        + result.duplicates_removed
        + sum(result.unusable.values())
        + len(result.transfers)
    )
    assert len({t.transfer_id for t in result.transfers}) == len(result.transfers)
    times = [t.transferred_at for t in result.transfers]
    assert times == sorted(times) and len(set(times)) == len(times)
    # Promoted and relegated clubs trade between the two files: their two rows become one.
    leagues = Counter((t.from_league, t.to_league) for t in result.transfers)
    assert (
        leagues[("Premier League", "Championship")] > 100
        and leagues[("Championship", "Premier League")] > 100
    )
    assert result.duplicates_removed > 0.15 * result.rows_read
