"""Small Transfermarkt-format CSV files for producer tests (the real data is optional)."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "club_name,player_name,age,position,club_involved_name,fee,transfer_movement,transfer_period,"
    "fee_cleaned,league_name,year,season,country"
)
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "transfers"


def row(
    club: str,
    player: str,
    age: str,
    position: str,
    other: str,
    fee: str,
    movement: str,
    window: str = "Summer",
    cleaned: str = "NA",
    league: str = "Premier League",
    season: int = 2008,
    country: str = "England",
) -> str:
    return (
        f"{club},{player},{age},{position},{other},{fee},{movement},{window},{cleaned},{league},"
        f"{season},{season}/{season + 1},{country}"
    )


PL = [
    # A paid transfer listed by both clubs, each naming the other by a short name.
    row(
        "Tottenham Hotspur",
        "Dimitar Berbatov",
        "27",
        "Centre-Forward",
        "Man Utd",
        "€38.00m",
        "out",
        cleaned="38",
    ),
    row(
        "Manchester United",
        "Dimitar Berbatov",
        "27",
        "Centre-Forward",
        "Spurs",
        "€38.00m",
        "in",
        cleaned="38",
    ),
    # Bought from a club outside the files: one row, seller from club_involved_name.
    row(
        "Tottenham Hotspur",
        "Luka Modric",
        "22",
        "Central Midfield",
        "Dinamo Zagreb",
        "€21.00m",
        "in",
        cleaned="21",
    ),
    row(
        "Tottenham Hotspur",
        "Luka Modric",
        "22",
        "Central Midfield",
        "Dinamo Zagreb",
        "€21.00m",
        "in",
        cleaned="21",
    ),
    # A free transfer is a real event with fee 0.
    row("Manchester United", "Ben Foster", "25", "Goalkeeper", "Watford", "free transfer", "in", cleaned="0"),
    # Released to "Without Club" and signed from it in the same window: two moves, not one.
    row("Tottenham Hotspur", "Paul Robinson", "28", "Goalkeeper", "Without Club", "free transfer", "out"),
    row("Manchester United", "Paul Robinson", "28", "Goalkeeper", "Without Club", "free transfer", "in"),
    # Loans, ends of loans and unknown or missing fees are counted, not published.
    row("Manchester United", "Fraizer Campbell", "20", "attack", "Spurs", "loan transfer", "out"),
    row("Tottenham Hotspur", "Fraizer Campbell", "20", "attack", "Man Utd", "loan transfer", "in"),
    row(
        "Manchester United",
        "Danny Welbeck",
        "18",
        "Centre-Forward",
        "Preston",
        '"End of loanJun 30, 2008"',
        "in",
    ),
    row(
        "Manchester United",
        "Tom Heaton",
        "22",
        "Goalkeeper",
        "Wigan",
        "Loan fee:€500Th.",
        "out",
        cleaned="0.5",
    ),
    row("Tottenham Hotspur", "Kevin-Prince Boateng", "21", "Central Midfield", "Hertha BSC", "?", "in"),
    row("Tottenham Hotspur", "John Bostock", "16", "midfield", "Crystal Palace", "-", "in"),
    # An age no schema accepts is dropped, the transfer kept.
    row("Manchester United", "Old Timer", "60", "Sweeper", "Leeds", "€1.00m", "in", cleaned="1"),
    # One player moving twice in a window: A -> B, then B -> C.
    row("Tottenham Hotspur", "Chain Player", "24", "Left Winger", "Ajax", "€2.00m", "in", cleaned="2"),
    row("Manchester United", "Chain Player", "24", "Left Winger", "Spurs", "€5.00m", "in", cleaned="5"),
    row("Tottenham Hotspur", "Chain Player", "24", "Left Winger", "Man Utd", "€5.00m", "out", cleaned="5"),
    # Listed by the buyer only: the seller's short name becomes its full name (a learned alias).
    row(
        "Manchester United", "Spurs Reject", "26", "Defensive Midfield", "Spurs", "€4.00m", "in", cleaned="4"
    ),
    # The winter window comes after the summer one.
    row(
        "Manchester United", "Winter Signing", "23", "Right-Back", "Everton", "€3.50m", "in", "Winter", "3.5"
    ),
    # An earlier season comes first.
    row(
        "Manchester United",
        "Early Bird",
        "30",
        "Left-Back",
        "Everton",
        "€1.50m",
        "in",
        cleaned="1.5",
        season=2007,
    ),
]
BAD = [
    "Manchester United,Too Few,25,Goalkeeper,Everton,€1.00m,in,Summer",
    row("Manchester United", "No Position", "25", "Waterboy", "Everton", "€1.00m", "in"),
    row("Manchester United", "Odd Fee", "25", "Goalkeeper", "Everton", "lots of money", "in"),
]
CHAMPIONSHIP = [
    # The other half of a transfer whose first half is in another file.
    row(
        "Watford FC",
        "Ben Foster",
        "25",
        "Goalkeeper",
        "Man Utd",
        "free transfer",
        "out",
        cleaned="0",
        league="Championship",
    ),  # fmt: skip
    row(
        "Watford FC",
        "Tommy Smith",
        "28",
        "Right Winger",
        "Derby",
        "€0.50m",
        "in",
        cleaned="0.5",
        league="Championship",
    ),
]

# What PL + BAD + CHAMPIONSHIP hold (see the comments above): 20 + 3 + 2 rows read.
ROWS_READ = 25
DUPLICATES = 5  # the second rows of Berbatov, Foster, Campbell and Chain; Modric's repeated line
TRANSFERS = 12  # Berbatov, Modric, Foster, Robinson x2, Old Timer, Chain x2, Reject, Winter, Early, Smith
PAID = 9
EXPECTED_UNUSABLE = {
    "loan": 1,
    "end_of_loan": 1,
    "loan_with_fee": 1,
    "fee_unknown": 1,
    "fee_not_given": 1,
}


def write_csv(path: Path, rows: list[str], bad: list[str] | None = None, raw_tail: bytes = b"") -> Path:
    path.write_bytes(("\n".join([HEADER, *rows, *(bad or [])]) + "\n").encode("utf-8") + raw_tail)
    return path
