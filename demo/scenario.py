"""The demo's data: real Transfermarkt transfers when present, else the synthetic world with drift.

With real transfers, the players' season records (Understat files, when a stats folder is
given and holds any) are resolved to the transfer players as `mlops-fc ingest stats` does
and merged in time order: a season's totals come once it ended (1 June), i.e. after that
season's winter window and before the next summer's requests.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeGuard

from producers.stats import resolve_stats
from producers.stats_match import PlayerIndex
from producers.synthetic import DriftSpec, generate
from producers.timeline import WINDOWS, window_order
from producers.transfermarkt import csv_files, read_transfers_csv
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats

Ingested = PlayerRecord | TransferCompleted | PlayerSeasonStats


def steps(events: list[Ingested], requests: int) -> list[list[Ingested]]:
    """A window's events cut, in their order, into steps of at most ``requests`` paid transfers.

    The market does not answer a window at once: its deals spread over weeks and each fee is
    known when the deal is signed, before the requests of later deals. Published in steps, a
    window's later requests are scored after its earlier fees reached the monitor, as they
    would be (bounds calibrated on them, a shadow verdict taken on them). ``requests`` 0: the
    whole window is one step. A step ends after a paid transfer; what follows the window's
    last one (season records) stays with the last step.
    """
    if requests < 0:
        raise ValueError("requests must be 0 (whole windows) or positive")
    if requests == 0:
        return [events]
    out: list[list[Ingested]] = [[]]
    paid = 0
    for event in events:
        if paid == requests:
            out.append([])
            paid = 0
        out[-1].append(event)
        if is_paid(event):
            paid += 1
    if len(out) > 1 and not any(is_paid(e) for e in out[-1]):
        out[-2].extend(out.pop())
    return out


def is_paid(event: object) -> TypeGuard[TransferCompleted]:
    """A transfer with a fee: the demo asks for its prediction, the models learn from it."""
    return isinstance(event, TransferCompleted) and event.fee_eur_m > 0


@dataclass(frozen=True)
class RecordMatch:
    """How the season files' rows resolved to the transfer players (producers.stats)."""

    source: str  # the stats folder read, or "" when there was none
    rows_read: int = 0
    matched: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    unparseable: int = 0
    players_matched: int = 0

    @property
    def match_rate(self) -> float:
        """Matched rows over the rows read."""
        return self.matched / self.rows_read if self.rows_read else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source, "rows_read": self.rows_read, "matched": self.matched,
            "ambiguous": self.ambiguous, "unmatched": self.unmatched, "unparseable": self.unparseable,
            "players_matched": self.players_matched, "match_rate": round(self.match_rate, 4),
        }  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """History the first model learns from, then the stream the live system must follow."""

    source: str  # "transfermarkt" or "synthetic"
    history: list[Ingested]
    stream: list[Ingested]
    base_until: int  # the first model sees seasons up to this one
    records: RecordMatch = field(default_factory=lambda: RecordMatch(""))

    @property
    def history_transfers(self) -> list[TransferCompleted]:
        return [e for e in self.history if isinstance(e, TransferCompleted)]

    def windows(self) -> list[tuple[tuple[int, str], list[Ingested]]]:
        """The stream cut into its real transfer windows (season, window), in order.

        A window is keyed by its transfers only: a player record travels with the transfer
        that follows it, whatever its own date (a January record belongs to the winter, not
        to the summer its date's season would suggest), so each real window is one step.
        A season record (known on 1 June) closes the window before it: it is published a
        whole step ahead of the requests that may read it.
        """
        by_window: dict[tuple[int, int], list[Ingested]] = {}
        pending: list[Ingested] = []
        last: tuple[int, int] | None = None
        for event in self.stream:
            if isinstance(event, PlayerSeasonStats) and last is not None:
                by_window[last].append(event)
                continue
            if not isinstance(event, TransferCompleted):
                pending.append(event)
                continue
            last = (event.season, window_order(event.window))
            by_window.setdefault(last, []).extend([*pending, event])
            pending = []
        if pending and last is not None:
            by_window[last].extend(pending)
        return [((season, WINDOWS[order]), events) for (season, order), events in sorted(by_window.items())]


def _season_of(record: PlayerRecord) -> int:
    at = record.as_of
    return at.year if at.month >= 7 else at.year - 1


@dataclass(frozen=True)
class DataChoice:
    """Where the main job's data comes from, and why."""

    transfers: Path | None  # None: the synthetic world
    stats: Path | None
    origin: str  # a line for the console


def choose_data(shared: Path, fetched: Path) -> DataChoice:
    """``shared`` (../shared/data) when it holds transfers, else ``fetched`` (the files of
    `mlops-fc data fetch`), else the synthetic world; season records from the same folder."""
    for root, origin in ((shared, "the shared data"), (fetched, "the files of `mlops-fc data fetch`")):
        transfers = root / "transfers"
        if transfers.is_dir() and csv_files([transfers]):
            stats = root / "player-stats"
            has_stats = stats.is_dir() and bool(csv_files([stats]))
            what = "transfers and season records" if has_stats else "transfers, no season records"
            return DataChoice(transfers, stats if has_stats else None, f"{origin} in {root} ({what})")
    return DataChoice(
        None, None, f"no data in {shared} or {fetched} (`mlops-fc data fetch`): the synthetic world"
    )


@dataclass(frozen=True)
class SyntheticPlan:
    """The synthetic world used when there is no data: seasons, size, and when it drifts."""

    seed: int = 42
    first_season: int = 2003
    per_season: int = 1500
    drift: DriftSpec = DriftSpec(from_season=2015)  # fees inflate and ages shift from here on


def load_scenario(
    data_dir: Path | None,
    base_until: int = 2012,
    last_season: int = 2022,
    synthetic: SyntheticPlan | None = None,
    stats_dir: Path | None = None,
) -> Scenario:
    """Transfermarkt files from ``data_dir`` when it holds any (with the season records of
    ``stats_dir`` when it holds any), else the synthetic world (no records)."""
    records = RecordMatch("")
    if data_dir is not None and data_dir.is_dir() and csv_files([data_dir]):
        read = read_transfers_csv([data_dir], seasons=(1900, last_season))
        events: list[Ingested] = [e for pair in read.pairs() for e in pair]
        source = "transfermarkt"
        if stats_dir is not None and stats_dir.is_dir() and csv_files([stats_dir]):
            stats = resolve_stats([stats_dir], PlayerIndex.build(read.transfers, read.aliases))
            known = [e for e in stats.events if e.season + 1 <= last_season]
            events = list(heapq.merge(known, events, key=_moment))  # stats first on a tie
            records = RecordMatch(
                str(stats_dir), stats.rows_read, stats.matched, stats.ambiguous, stats.unmatched,
                len(stats.unparseable), stats.players_matched,
            )  # fmt: skip
    else:
        plan = synthetic or SyntheticPlan()
        seasons = range(plan.first_season, last_season + 1)
        events = list(generate(plan.seed, seasons, plan.per_season, plan.drift))
        source = "synthetic"
    history = [e for e in events if _season(e) <= base_until]
    stream = [e for e in events if _season(e) > base_until]
    return Scenario(source, history, stream, base_until, records)


def _moment(event: Ingested) -> datetime:
    if isinstance(event, PlayerSeasonStats):
        return event.known_at
    return event.transferred_at if isinstance(event, TransferCompleted) else event.as_of


def _season(event: Ingested) -> int:
    if isinstance(event, PlayerSeasonStats):
        return event.season + 1  # known once it ended: it belongs to the next season's stream
    return event.season if isinstance(event, TransferCompleted) else _season_of(event)
