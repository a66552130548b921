"""Rows that cannot be parsed land on the dead-letter topic with reason and raw bytes; nothing
else is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from producers.ingest import ingest_csv
from schemas.codec import decode, header
from schemas.deadletters import DeadLetter
from schemas.records import PlayerRecord, TransferCompleted
from stack.settings import Settings
from tests.producer_kafka import read_to_end
from tests.producer_samples import BAD, CHAMPIONSHIP, PL, TRANSFERS, row, write_csv

pytestmark = pytest.mark.integration


def test_unparseable_rows_are_dead_lettered_and_the_rest_published(
    settings: Settings, tmp_path: Path
) -> None:
    bad_utf8 = (
        row("Arsenal FC", "Broken Bytes", "25", "Goalkeeper", "Everton", "€1.00m", "in").encode() + b"\xff"
    )
    files = [
        write_csv(tmp_path / "pl.csv", PL, BAD, raw_tail=bad_utf8 + b"\n"),
        write_csv(tmp_path / "championship.csv", CHAMPIONSHIP),
    ]
    summary = ingest_csv(settings, files)
    raw_bad = [line.encode() for line in BAD] + [bad_utf8]
    assert summary.dead_lettered == len(raw_bad)
    assert summary.published["deadletters"] == len(raw_bad)

    letters = read_to_end(settings, "deadletters")
    decoded = [decode(m.value(), m.headers(), expected=DeadLetter) for m in letters]
    assert [letter.raw_value() for letter in decoded] == raw_bad  # one partition: in order
    assert [letter.reason for letter in decoded][-1] == "not valid UTF-8"
    assert "unknown position 'Waterboy'" in decoded[1].reason
    assert {letter.source_topic for letter in decoded} == {"csv:pl.csv"}
    assert {m.key() for m in letters} == {b"csv:pl.csv"}
    assert [letter.headers["csv_line"] for letter in decoded] == [
        "22",
        "23",
        "24",
        "25",
    ]  # after the header and PL
    assert {letter.headers["csv_path"] for letter in decoded} == {str(files[0])}
    assert {header(m.headers(), "event_type") for m in letters} == {"DeadLetter"}
    assert all(letter.source == "producers.transfermarkt" for letter in decoded)

    transfers = [
        decode(m.value(), m.headers(), expected=TransferCompleted)
        for m in read_to_end(settings, "transfers.completed")
    ]
    records = [
        decode(m.value(), m.headers(), expected=PlayerRecord)
        for m in read_to_end(settings, "players.records")
    ]
    assert len(transfers) == len(records) == TRANSFERS == summary.transfers
    assert len({t.transfer_id for t in transfers}) == TRANSFERS
