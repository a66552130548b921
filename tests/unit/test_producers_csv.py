"""Parsing Transfermarkt rows: fees, positions, ages, seasons, and what cannot be parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from producers.csv_rows import BadRow, CsvRow, read_rows
from producers.exceptions import CsvFormatError
from producers.fees import Fee, FeeParseError, agrees_with_cleaned, parse_fee
from tests.producer_samples import BAD, HEADER, PL, row, write_csv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("€38.00m", Fee("paid", 38.0)),
        ("€150Th.", Fee("paid", 0.15)),
        ("€500k", Fee("paid", 0.5)),
        ("€500", Fee("paid", 0.0005)),
        ("€1.2bn", Fee("paid", 1200.0)),
        ("€0", Fee("free", 0.0)),
        ("free transfer", Fee("free", 0.0)),
        ("Free Transfer", Fee("free", 0.0)),
        ("loan transfer", Fee("loan")),
        ("Loan fee:€500Th.", Fee("loan_fee", 0.5)),
        ("End of loanJun 30, 2019", Fee("end_of_loan")),
        ("?", Fee("unknown")),
        ("-", Fee("not_given")),
        ("", Fee("not_given")),
        ("draft", Fee("draft")),
    ],
)
def test_fee_texts(text: str, expected: Fee) -> None:
    assert parse_fee(text) == expected


@pytest.mark.parametrize("text", ["lots of money", "€", "38m", "Loan fee:?"])
def test_unknown_fee_texts_raise(text: str) -> None:
    with pytest.raises(FeeParseError):
        parse_fee(text)


def test_only_paid_and_free_are_usable() -> None:
    kinds = ("paid", "free", "loan", "loan_fee", "end_of_loan", "unknown", "not_given", "draft")
    assert {kind for kind in kinds if Fee(kind).usable} == {"paid", "free"}  # type: ignore[arg-type]


def test_fee_cleaned_is_cross_checked() -> None:
    assert agrees_with_cleaned(Fee("paid", 0.15), "0.15")
    assert agrees_with_cleaned(Fee("paid", 0.0005), "NA")
    assert not agrees_with_cleaned(Fee("paid", 5.0), "3.75")


def test_rows_are_parsed_and_normalised(tmp_path: Path) -> None:
    rows = list(read_rows(write_csv(tmp_path / "pl.csv", PL)))
    assert all(isinstance(r, CsvRow) for r in rows)
    parsed = [r for r in rows if isinstance(r, CsvRow)]
    berbatov = parsed[0]
    assert (berbatov.club, berbatov.involved, berbatov.movement, berbatov.window) == (
        "Tottenham Hotspur", "Man Utd", "out", "summer",
    )  # fmt: skip
    assert (berbatov.season, berbatov.age, berbatov.league, berbatov.fee) == (
        2008,
        27,
        "Premier League",
        Fee("paid", 38.0),
    )
    assert berbatov.line == 2
    positions = {r.player_name: r.position for r in parsed}
    assert positions["Fraizer Campbell"] == "Forward"  # "attack"
    assert positions["Old Timer"] == "Centre-Back"  # "Sweeper"
    assert positions["John Bostock"] == "Midfielder"  # "midfield"
    old = next(r for r in parsed if r.player_name == "Old Timer")
    assert old.age is None and old.age_dropped


def test_unparseable_rows_keep_raw_bytes_and_reason(tmp_path: Path) -> None:
    bad_utf8 = (
        row("Manchester United", "X", "25", "Goalkeeper", "Everton", "€1.00m", "in").encode() + b"\xff\xfe"
    )
    path = write_csv(tmp_path / "bad.csv", PL[:1], BAD, raw_tail=bad_utf8 + b"\n")
    rows = list(read_rows(path))
    bad = [r for r in rows if isinstance(r, BadRow)]
    assert [b.raw for b in bad] == [line.encode() for line in BAD] + [bad_utf8]
    assert [b.line for b in bad] == [3, 4, 5, 6]
    reasons = [b.reason for b in bad]
    assert reasons[0] == "expected 13 fields, got 8"
    assert "unknown position 'Waterboy'" in reasons[1]
    assert "fee 'lots of money'" in reasons[2]
    assert reasons[3] == "not valid UTF-8"


@pytest.mark.parametrize(
    ("season", "year", "reason"),
    [
        ("08/09", "2008", "like 2012/2013"),
        ("2008/2010", "2008", "consecutive"),
        ("2008/2009", "2007", "year"),
    ],
)
def test_inconsistent_seasons_are_unparseable(tmp_path: Path, season: str, year: str, reason: str) -> None:
    line = f"Arsenal FC,A B,25,Goalkeeper,Everton,€1.00m,in,Summer,1,Premier League,{year},{season},England"
    (result,) = read_rows(write_csv(tmp_path / "s.csv", [line]))
    assert isinstance(result, BadRow) and reason in result.reason


def test_quoted_fields_and_blank_lines(tmp_path: Path) -> None:
    lines = [row("Arsenal FC", '"Smith, John"', "25", "Goalkeeper", "Everton", "€1.00m", "in"), ""]
    (result,) = read_rows(write_csv(tmp_path / "q.csv", lines))
    assert isinstance(result, CsvRow) and result.player_name == "Smith, John"


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("name,fee\nA,1\n")
    with pytest.raises(CsvFormatError, match="missing column"):
        list(read_rows(path))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CsvFormatError, match="empty"):
        list(read_rows(empty))


def test_header_with_bom_and_reordered_columns(tmp_path: Path) -> None:
    columns = HEADER.split(",")
    line = row("Arsenal FC", "A B", "25", "Goalkeeper", "Everton", "€1.00m", "in").split(",")
    order = list(reversed(range(len(columns))))
    path = tmp_path / "bom.csv"
    text = ",".join(columns[i] for i in order) + "\n" + ",".join(line[i] for i in order) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    (result,) = read_rows(path)
    assert isinstance(result, CsvRow) and (result.club, result.involved) == ("Arsenal FC", "Everton")
