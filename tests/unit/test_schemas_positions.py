"""Position normalisation: every name in the real data maps to the canonical set."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from schemas.exceptions import UnknownPositionError
from schemas.positions import COARSE_POSITIONS, POSITIONS, normalise_position, position_group

TRANSFERS_DIR = Path(__file__).parents[2].parent / "shared/data/transfers"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Centre-Forward", "Centre-Forward"),
        ("centre forward", "Centre-Forward"),
        ("  LEFT-back ", "Left-Back"),
        ("defence", "Defender"),
        ("Defence", "Defender"),
        ("midfield", "Midfielder"),
        ("attack", "Forward"),
        ("Sweeper", "Centre-Back"),
        ("Center-Back", "Centre-Back"),
        ("ST", "Centre-Forward"),
    ],
)
def test_known_names_map(raw: str, expected: str) -> None:
    assert normalise_position(raw) == expected


def test_canonical_names_map_to_themselves() -> None:
    assert len(POSITIONS) == 16 and set(COARSE_POSITIONS) <= set(POSITIONS)
    for position in POSITIONS:
        assert normalise_position(position) == position


@pytest.mark.parametrize("raw", ["", "Waterboy", "Left"])
def test_unknown_names_raise_a_clear_value_error(raw: str) -> None:
    with pytest.raises(ValueError, match="unknown position") as caught:
        normalise_position(raw)
    assert isinstance(caught.value, UnknownPositionError)
    assert "Centre-Back" in str(caught.value)


def test_position_groups() -> None:
    assert position_group("Goalkeeper") == "Goalkeeper"
    assert position_group(normalise_position("Sweeper")) == "Defender"
    assert position_group("Attacking Midfield") == "Midfielder"
    assert position_group("Second Striker") == "Forward"
    assert {position_group(p) for p in POSITIONS} == {"Goalkeeper", "Defender", "Midfielder", "Forward"}


@pytest.mark.skipif(not TRANSFERS_DIR.is_dir(), reason=f"no real data at {TRANSFERS_DIR}")
def test_every_position_in_the_real_data_maps() -> None:
    seen: set[str] = set()
    for path in sorted(TRANSFERS_DIR.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            seen.update(row["position"] for row in csv.DictReader(handle))
    assert len(seen) >= 17, seen  # the data uses 18 distinct spellings
    unmapped = {raw for raw in seen if raw and _fails(raw)}
    assert not unmapped


def _fails(raw: str) -> bool:
    try:
        normalise_position(raw)
    except UnknownPositionError:
        return True
    return False
