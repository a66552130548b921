"""The public files the project's real data comes from, each pinned to a commit and a SHA-256.

The checksums are those of the copies in ../shared/data (byte-identical to the files served
at these commits); `mlops-fc data fetch` refuses any download that does not match.
"""

from __future__ import annotations

from dataclasses import dataclass

TRANSFERS_REPO = "ewenme/transfers"
TRANSFERS_COMMIT = "b531325a83bf3114f29546198ac4b73230402f52"
STATS_REPO = "vibedatascience/understat_players_aggregated"
STATS_COMMIT = "3bbac10a57de31251d0ec2a08ee008b959e77e55"
STATS_CSV = "understat-2014-2024.csv"  # what the parquet becomes (see producers.fetch)


@dataclass(frozen=True)
class Source:
    """One file to download: where from (relative to its base URL), where to, its checksum."""

    name: str  # a league name, or "understat"
    path: str  # relative to the base URL
    target: str  # relative to the data directory
    sha256: str
    size: int | None = None


TRANSFER_FILES: dict[str, str] = {
    "1-bundesliga": "5b52249cd81c7fa4fd31e8f85118deca0fc16820d4d539bf2f3039634841a44f",
    "championship": "4c43e5f51457225ade39f4c14424b354cfcfb48c2ae25aae05e9f3c1c6e7d313",
    "eredivisie": "4da9465c2f72ee5f5f20b037c0a5c1b85d204bd1dcfed128a1a421887a3ddafe",
    "liga-nos": "5802cecd129798ad6cb4a8c5556df11d8e1e0240491ae187ada8bac0d4e8b3b4",
    "ligue-1": "8bd54ffe0f9ec5a2026fdb66f31031f51561e39db8d0309747c34d0dfc82ac9c",
    "premier-league": "2631ad0b17b894e61f97a493b5bdc8cfb43660b0812dac8b8d6b15d06a8433b7",
    "premier-liga": "f4170fb109ab5333883e11a4bd8e466d104c0261f837853bf91398355f3cfd3b",
    "primera-division": "4161de927c82d166fa9f203b32e346f1baf975a49ce5f73ff60cc7ebf832da3d",
    "serie-a": "100df2914d54e9652ad98ecc2fbb28387e8728a2359ec0d029c6d03dc9e9d23f",
}
# The six leagues the project's data folder holds (the Understat file covers five of them).
DEFAULT_LEAGUES: tuple[str, ...] = (
    "1-bundesliga", "championship", "ligue-1", "premier-league", "primera-division", "serie-a",
)  # fmt: skip
STATS_FILE = Source(
    name="understat",
    path="understat_players_aggregated_2014_2024.parquet",
    target="player-stats/understat_players_aggregated_2014_2024.parquet",
    sha256="49b0e3dbcb02f77a0885d39d650ebbb876c579bcfa0d7313a147b94e59c4294e",
    size=2_004_397,
)


def transfer_source(league: str) -> Source:
    """The pinned file of one league; ValueError for a league the manifest does not know."""
    if league not in TRANSFER_FILES:
        raise ValueError(f"unknown league {league!r}: one of {', '.join(sorted(TRANSFER_FILES))}")
    return Source(league, f"data/{league}.csv", f"transfers/{league}.csv", TRANSFER_FILES[league])
