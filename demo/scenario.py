"""The demo's data: real Transfermarkt transfers when present, else the synthetic world with drift."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from producers.synthetic import DriftSpec, generate
from producers.timeline import WINDOWS, window_order
from producers.transfermarkt import csv_files, read_transfers_csv
from schemas.records import PlayerRecord, TransferCompleted

Ingested = PlayerRecord | TransferCompleted


@dataclass(frozen=True)
class Scenario:
    """History the first model learns from, then the stream the live system must follow."""

    source: str  # "transfermarkt" or "synthetic"
    history: list[Ingested]
    stream: list[Ingested]
    base_until: int  # the first model sees seasons up to this one

    @property
    def history_transfers(self) -> list[TransferCompleted]:
        return [e for e in self.history if isinstance(e, TransferCompleted)]

    def windows(self) -> list[tuple[tuple[int, str], list[Ingested]]]:
        """The stream cut into its real transfer windows (season, window), in order.

        A window is keyed by its transfers only: a player record travels with the transfer
        that follows it, whatever its own date (a January record belongs to the winter, not
        to the summer its date's season would suggest), so each real window is one step.
        """
        by_window: dict[tuple[int, int], list[Ingested]] = {}
        pending: list[Ingested] = []
        last: tuple[int, int] | None = None
        for event in self.stream:
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
) -> Scenario:
    """Transfermarkt files from ``data_dir`` when it holds any, else the synthetic world."""
    if data_dir is not None and data_dir.is_dir() and csv_files([data_dir]):
        read = read_transfers_csv([data_dir], seasons=(1900, last_season))
        events: list[Ingested] = [e for pair in read.pairs() for e in pair]
        source = "transfermarkt"
    else:
        plan = synthetic or SyntheticPlan()
        seasons = range(plan.first_season, last_season + 1)
        events = list(generate(plan.seed, seasons, plan.per_season, plan.drift))
        source = "synthetic"
    history = [e for e in events if _season(e) <= base_until]
    stream = [e for e in events if _season(e) > base_until]
    return Scenario(source, history, stream, base_until)


def _season(event: Ingested) -> int:
    return event.season if isinstance(event, TransferCompleted) else _season_of(event)
