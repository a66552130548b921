"""Stats rows -> player ids: accents, case, club aliases, namesakes; bad rows; time order."""

from __future__ import annotations

from pathlib import Path

import pytest

from producers.exceptions import CsvFormatError
from producers.names import ClubAliases
from producers.stats import resolve_stats
from producers.stats_match import CAREER_END_AGE, CAREER_START_AGE, PlayerIndex, carried_clubs
from producers.stats_rows import BadRow, read_stats_rows
from schemas.season_stats import season_end
from tests.stats_samples import stats_row, transfer, write_stats


def index_of(*transfers: object, aliases: ClubAliases | None = None) -> PlayerIndex:
    return PlayerIndex.build(transfers, aliases)  # type: ignore[arg-type]


def test_accents_and_case_do_not_matter(tmp_path: Path) -> None:
    index = index_of(transfer("p-1", "Sébastien Haller", "Utrecht", "Eintracht Frankfurt", 2017))
    path = write_stats(tmp_path / "s.csv", [stats_row(1, "SEBASTIEN HALLER", "Eintracht Frankfurt", 2017)])
    result = resolve_stats([path], index)
    assert (result.matched, result.ambiguous, result.unmatched) == (1, 0, 0)
    assert result.events[0].player_id == "p-1"


def test_namesakes_are_told_apart_by_club_and_season(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-a", "Danilo", "Porto", "Real Madrid", 2015),
        transfer("p-b", "Danilo", "Udinese", "Bologna", 2016),
    )
    rows = [stats_row(7, "Danilo", "Real Madrid", 2015), stats_row(8, "Danilo", "Bologna", 2017)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert result.matched == 2
    assert {(e.team, e.player_id) for e in result.events} == {("Real Madrid", "p-a"), ("Bologna", "p-b")}


def test_namesakes_the_clubs_cannot_tell_apart_are_ambiguous_never_guessed(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-a", "Danilo", "Porto", "Real Madrid", 2015),
        transfer("p-b", "Danilo", "Udinese", "Bologna", 2016),
    )
    rows = [stats_row(7, "Danilo", "Juventus", 2019), stats_row(7, "Danilo", "Juventus", 2020)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert (result.matched, result.ambiguous, result.unmatched) == (0, 2, 0)
    assert result.events == []


def test_a_namesake_in_the_stats_file_makes_clubs_decide(tmp_path: Path) -> None:
    index = index_of(transfer("p-a", "Paulo Silva", "Braga", "Everton", 2016))
    rows = [stats_row(1, "Paulo Silva", "Everton", 2016), stats_row(2, "Paulo Silva", "Lille", 2016)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert (result.matched, result.ambiguous, result.unmatched) == (1, 0, 1)
    assert result.events[0].team == "Everton"


def test_the_learned_club_alias_links_a_short_team_name(tmp_path: Path) -> None:
    aliases = ClubAliases()
    for _ in range(3):
        aliases.vote("Wolves", "Wolverhampton Wanderers")
    aliases.settle()
    index = index_of(
        transfer("p-a", "Raul Jimenez", "Benfica", "Wolverhampton Wanderers", 2018),
        transfer("p-b", "Raul Jimenez", "Getafe", "Leganes", 2018),
        aliases=aliases,
    )
    result = resolve_stats(
        [write_stats(tmp_path / "s.csv", [stats_row(3, "Raúl Jiménez", "Wolves", 2018)])], index
    )
    assert [e.player_id for e in result.events] == ["p-a"]


def test_a_short_form_of_the_name_needs_the_club(tmp_path: Path) -> None:
    index = index_of(transfer("p-k", "Kepa Arrizabalaga", "Athletic Bilbao", "Chelsea", 2018))
    rows = [stats_row(4, "Kepa", "Chelsea", 2018), stats_row(5, "Arrizabalaga", "Lyon", 2018)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.player_id for e in result.events] == ["p-k"]
    assert result.unmatched == 1


def test_unknown_players_are_counted(tmp_path: Path) -> None:
    index = index_of(transfer("p-1", "Someone Else", "A", "B", 2016))
    result = resolve_stats(
        [write_stats(tmp_path / "s.csv", [stats_row(1, "Nobody Known", "B", 2016)])], index
    )
    assert (result.rows_read, result.matched, result.unmatched) == (1, 0, 1)


def test_bad_rows_keep_their_raw_line_and_every_row_is_counted(tmp_path: Path) -> None:
    index = index_of(transfer("p-1", "Harry Kane", "Leyton Orient", "Tottenham Hotspur", 2011))
    bad_minutes = stats_row(1, "Harry Kane", "Tottenham", 2015).replace(",2700,", ",lots,")
    rows = [
        stats_row(1, "Harry Kane", "Tottenham", 2015),
        bad_minutes,
        "1,Harry Kane,too,few",
        "9,X,Y,EPL,2015,2015",
    ]
    path = write_stats(tmp_path / "s.csv", rows)
    result = resolve_stats([path], index)
    assert result.rows_read == 4
    assert result.rows_read == len(result.unparseable) + result.matched + result.ambiguous + result.unmatched
    assert [bad.raw for bad in result.unparseable] == [r.encode() for r in rows[1:]]
    assert "time 'lots'" in result.unparseable[0].reason


def test_events_are_in_time_order_and_known_at_the_season_end(tmp_path: Path) -> None:
    index = index_of(transfer("p-1", "Harry Kane", "Leyton Orient", "Tottenham Hotspur", 2011))
    rows = [stats_row(1, "Harry Kane", "Tottenham", season) for season in (2017, 2015, 2016)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.season for e in result.events] == [2015, 2016, 2017]
    assert all(e.known_at == season_end(e.season) for e in result.events)
    again = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.event_id for e in again.events] == [e.event_id for e in result.events]


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("club_name,player_name\nA,B\n", encoding="utf-8")
    with pytest.raises(CsvFormatError, match="not an Understat season file"):
        list(read_stats_rows(path))


def test_rows_parse_into_typed_fields(tmp_path: Path) -> None:
    (row,) = read_stats_rows(write_stats(tmp_path / "s.csv", [stats_row(1, "A B", "C", 2014, minutes=90)]))
    assert not isinstance(row, BadRow)
    assert (row.season, row.position, row.counts["time"], row.amounts["xG"]) == (2014, "Forward", 90, 9.5)


@pytest.mark.parametrize(
    ("primary", "expected"),
    [("GK", "Goalkeeper"), ("D", "Defender"), ("S", "Forward"), ("D F M S", "Defender")],
)
def test_understat_position_codes(tmp_path: Path, primary: str, expected: str) -> None:
    # stats_row writes position "F S": a substitute-only primary falls back to it
    (row,) = read_stats_rows(
        write_stats(tmp_path / "s.csv", [stats_row(1, "A B", "C", 2014, position=primary)])
    )
    assert not isinstance(row, BadRow) and row.position == expected


def test_only_substitute_appearances_leave_the_position_unknown(tmp_path: Path) -> None:
    line = stats_row(1, "A B", "C", 2014, position="S").replace(",F S,", ",S,")
    (row,) = read_stats_rows(write_stats(tmp_path / "s.csv", [line]))
    assert not isinstance(row, BadRow) and row.position is None


def resolved(tmp_path: Path, index: PlayerIndex, rows: list[str]) -> dict[str, str]:
    """stats source id -> the player id it resolved to (matched rows only)."""
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    return {str(e.player_name): e.player_id for e in result.events}


def test_html_entities_special_letters_apostrophes_and_hyphens_do_not_matter(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-k", "N'Golo Kanté", "Caen", "Leicester City", 2015),
        transfer("p-o", "Martin Ødegaard", "Real Madrid", "Arsenal FC", 2021),
        transfer("p-b", "Armel Bella-Kotchap", "VfL Bochum", "Southampton FC", 2022),
        transfer("p-n", "Stanley Nsoki", "Paris Saint-Germain", "OGC Nice", 2019),
    )
    rows = [
        stats_row(1, "N&#039;Golo Kanté", "Leicester", 2015),
        stats_row(2, "Martin Odegaard", "Real Madrid", 2020),
        stats_row(3, "Armel Bella Kotchap", "Bochum", 2021),
        stats_row(4, "Stanley N&#039;Soki", "Nice", 2020),
    ]
    assert set(resolved(tmp_path, index, rows).values()) == {"p-k", "p-o", "p-b", "p-n"}


def test_a_longer_form_of_the_name_is_matched_through_the_club(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-a", "Amad Diallo", "Atalanta BC", "Manchester United", 2020, window="winter"),
        transfer("p-x", "Amad Ba", "Lyon", "Nice", 2020),
    )
    rows = [
        stats_row(1, "Amad Diallo Traore", "Atalanta", 2019),
        stats_row(1, "Amad Diallo Traore", "Lille", 2015),
    ]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.player_id for e in result.events] == ["p-a", "p-a"]  # a player is resolved as a whole


def test_the_same_surname_and_initial_is_matched_through_the_club_only(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-d", "Danny Drinkwater", "Leicester City", "Chelsea FC", 2017),
        transfer("p-m", "Mathew Ryan", "Valencia CF", "Brighton & Hove Albion", 2017),
    )
    rows = [stats_row(1, "Daniel Drinkwater", "Leicester", 2016), stats_row(2, "Mat Ryan", "Lyon", 2016)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.player_id for e in result.events] == ["p-d"]
    assert result.unmatched == 1  # Ryan's name fits but his club does not: not guessed


def test_the_same_words_without_a_club_fall_back_to_a_longer_name_that_has_it(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-1", "Gabriel", "Palmeiras", "Arsenal FC", 2016),
        transfer("p-2", "Gabriel", "Santos", "Benfica", 2018),
        transfer("p-m", "Gabriel Magalhães", "LOSC Lille", "Arsenal FC", 2020),
    )
    rows = [stats_row(1, "Gabriel", "Lille", 2019), stats_row(1, "Gabriel", "Lille", 2018)]
    assert set(resolved(tmp_path, index, rows).values()) == {"p-m"}


def test_a_tie_of_clubs_in_a_looser_tier_is_ambiguous(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-1", "Bruno Soriano", "Villarreal CF", "Retired", 2020),
        transfer("p-2", "Bruno Silva", "Villarreal CF", "Porto", 2020),
    )
    result = resolve_stats(
        [write_stats(tmp_path / "s.csv", [stats_row(1, "Bruno", "Villarreal", 2019)])], index
    )
    assert (result.matched, result.ambiguous) == (0, 1)


def test_a_row_of_two_teams_counts_either_team(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-1", "Kylian Mbappé", "AS Monaco", "Paris Saint-Germain", 2018),
        transfer("p-2", "Kylian Mbappé Senior", "Lens", "Metz", 2018),
    )
    rows = [stats_row(1, "Kylian Mbappe-Lottin", '"Monaco,Paris Saint Germain"', 2017)]
    assert set(resolved(tmp_path, index, rows).values()) == {"p-1"}


def test_team_aliases_are_learned_from_players_matched_on_their_own(tmp_path: Path) -> None:
    # Three players matched by their unique names say Understat's "FC Cologne" is "1. FC Köln";
    # that alias then picks the right one of two namesakes.
    transfers = [transfer(f"p-{i}", f"Player Number{i}", "1. FC Köln", "Hertha BSC", 2021) for i in range(3)]
    index = index_of(
        *transfers,
        transfer("p-a", "Jonas Hector", "1. FC Köln", "Hertha BSC", 2021),
        transfer("p-b", "Jonas Hector", "Mainz 05", "Hertha BSC", 2021),
    )
    rows = [stats_row(10 + i, f"Player Number{i}", "FC Cologne", 2020) for i in range(3)]
    rows.append(stats_row(20, "Jonas Hector", "FC Cologne", 2020))
    assert resolved(tmp_path, index, rows)["Jonas Hector"] == "p-a"
    assert index.teams["fc cologne"] == "1. FC Köln"


def test_word_order_does_not_matter(tmp_path: Path) -> None:
    index = index_of(transfer("p-l", "Chung-yong Lee", "Bolton Wanderers", "Crystal Palace", 2014))
    rows = [stats_row(1, "Lee Chung-yong", "Crystal Palace", 2015)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.player_id for e in result.events] == ["p-l"]


def test_a_club_is_carried_forward_to_the_next_move(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-old", "Tuta", "Venezia", "Atletico Paranaense", 1999, age=24),
        transfer("p-new", "Tuta", "Sao Paulo B", "Eintracht Frankfurt", 2018, age=19),
    )
    rows = [stats_row(1, "Tuta", "Eintracht Frankfurt", season) for season in (2020, 2021, 2022)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.player_id for e in result.events] == ["p-new"] * 3


def test_a_club_is_not_carried_past_the_next_move_nor_past_a_career(tmp_path: Path) -> None:
    moves = [
        transfer("p-a", "Jan Nowak", "Lech", "Hamburger SV", 2012, age=24),
        transfer("p-a", "Jan Nowak", "Hamburger SV", "Schalke 04", 2016, age=28),
    ]
    carried = carried_clubs(moves)
    assert {(2014, "Hamburger SV"), (2018, "Schalke 04")} <= carried
    assert (2016, "Hamburger SV") not in carried  # the seller of the 2016 move covers 2015-2016
    assert max(season for season, club in carried if club == "Schalke 04") == 2016 + CAREER_END_AGE - 28
    index = index_of(*moves, transfer("p-b", "Jan Nowak", "Wisla", "Werder Bremen", 2010, age=36))
    rows = [stats_row(1, "Jan Nowak", "Hamburger SV", 2018), stats_row(2, "Jan Nowak", "Werder Bremen", 2016)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert result.events == [] and result.ambiguous == 2  # two namesakes, neither there then


def test_direct_evidence_beats_a_club_carried_forward(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-early", "Marco Rossi", "Parma", "Juventus", 2010, age=20),
        transfer("p-late", "Marco Rossi", "Bari", "Juventus", 2019, age=22),
    )
    result = resolve_stats(
        [write_stats(tmp_path / "s.csv", [stats_row(1, "Marco Rossi", "Juventus", 2019)])], index
    )
    assert [e.player_id for e in result.events] == ["p-late"]


def test_clubs_are_carried_for_a_short_form_that_keeps_the_surname_only(tmp_path: Path) -> None:
    index = index_of(
        transfer("p-ad", "Aritz Aduriz", "Valencia", "Athletic Bilbao", 2012, age=31),
        transfer("p-vi", "Vicente", "Levante", "Valencia", 2000, age=19),
    )
    rows = [stats_row(1, "Aduriz", "Athletic Club", 2015), stats_row(2, "Vicente Esquerdo", "Valencia", 2019)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.player_id for e in result.events] == ["p-ad"]
    assert result.unmatched_reasons == {"club/season not found": 1}  # never guessed from "Vicente"


def test_unmatched_rows_say_why(tmp_path: Path) -> None:
    index = index_of(transfer("p-1", "Kevin Stone", "Leeds", "Everton", 2016))
    rows = [
        stats_row(1, "Nobody Known", "Everton", 2016),
        stats_row(2, "Kevin Stone", "Everton", 2016),
        stats_row(3, "Kevin Stone", "Lille", 2016),  # a namesake in the stats file: clubs decide
    ]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert (result.matched, result.unmatched) == (1, 2)
    assert result.unmatched_reasons == {"name not found": 1, "club/season not found": 1}


def test_team_totals_sum_every_row_of_the_team_matched_or_not(tmp_path: Path) -> None:
    index = index_of(transfer("p-1", "Harry Kane", "Leyton Orient", "Tottenham Hotspur", 2011))
    rows = [
        stats_row(1, "Harry Kane", "Tottenham", 2016, goals=29),
        stats_row(2, "Nobody Known", "Tottenham", 2016, goals=3),  # unmatched, still the team's
        stats_row(3, "Someone Else", "Arsenal", 2016, goals=7),  # another team
        stats_row(1, "Harry Kane", "Tottenham", 2017, goals=30),  # another season
        stats_row(4, "Moved Midway", '"Tottenham,Arsenal"', 2016, goals=5),  # two teams: neither's
    ]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    by_season = {e.season: e for e in result.events}
    # each sample row has xG 9.5 and xA 4.25
    assert (by_season[2016].team_xg, by_season[2016].team_xa, by_season[2016].team_goals) == (19.0, 8.5, 32)
    assert (by_season[2017].team_xg, by_season[2017].team_goals) == (9.5, 30)


def test_a_row_of_two_teams_has_no_team_totals(tmp_path: Path) -> None:
    index = index_of(transfer("p-1", "Kylian Mbappé", "AS Monaco", "Paris Saint-Germain", 2018))
    rows = [stats_row(1, "Kylian Mbappe-Lottin", '"Monaco,Paris Saint Germain"', 2017)]
    (event,) = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index).events
    assert (event.team_xg, event.team_xa, event.team_goals) == (None, None, None)


def test_the_first_moves_seller_is_carried_back_to_the_start_of_a_career(tmp_path: Path) -> None:
    moves = [
        transfer("p-a", "Alex Lopez", "Celta de Vigo", "Sporting Gijon", 2017, age=28),
        transfer("p-a", "Alex Lopez", "Sporting Gijon", "Real Oviedo", 2019, age=30),
    ]
    carried = carried_clubs(moves)
    back = sorted(season for season, club in carried if club == "Celta de Vigo")
    assert back == list(range(2017 - (28 - CAREER_START_AGE), 2016))  # the seller covers 2016-2017 itself
    assert not any(club == "Sporting Gijon" and season < 2017 for season, club in carried)  # first move only
    unknown_age = transfer("p-b", "Alex Lopez", "Celta de Vigo", "Sporting Gijon", 2017).model_copy(
        update={"age": None}
    )
    assert carried_clubs([unknown_age]) == set()
    index = index_of(*moves, transfer("p-c", "Alex Lopez", "Getafe", "Malaga", 2012, age=24))
    rows = [stats_row(1, "Alex Lopez", "Celta Vigo", 2014)]
    result = resolve_stats([write_stats(tmp_path / "s.csv", rows)], index)
    assert [e.player_id for e in result.events] == ["p-a"]  # two namesakes: his old club decides
