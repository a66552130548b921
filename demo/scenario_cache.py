"""The main job's scenario, read once: the parsed events kept as JSON under the state dir.

Reading the six league files into events took 25-80 s of every run on the shared cores;
the cache holds the same events (pydantic's own JSON, validated again when loaded: data,
never code) under a key made of the files' bytes, the scenario's arguments and the source of
the code that turns files into events, so a change to any of them reads the files again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from demo.scenario import Ingested, RecordMatch, Scenario, SyntheticPlan, load_scenario
from producers.transfermarkt import csv_files

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
# The code between the files and the events: its source is part of the key.
PARSERS = (
    "demo/scenario.py", "producers/transfermarkt.py", "producers/synthetic.py",
    "producers/timeline.py", "producers/stats.py", "producers/stats_match.py", "producers/names.py",
    "schemas/records.py", "schemas/season_stats.py", "schemas/envelope.py",
)  # fmt: skip


Tagged = Annotated[Ingested, Field(discriminator="event_type")]


class _Cached(BaseModel):
    source: str
    base_until: int
    history: list[Tagged]
    stream: list[Tagged]
    records: dict[str, str | int]  # RecordMatch's fields: how the season files resolved


_ADAPTER = TypeAdapter(_Cached)


def scenario_key(
    data_dir: Path | None,
    base_until: int,
    last_season: int,
    plan: SyntheticPlan | None,
    stats_dir: Path | None = None,
) -> str:
    digest = hashlib.sha256(repr((base_until, last_season, plan)).encode())
    for name in PARSERS:
        digest.update((ROOT / name).read_bytes())
    for folder in (data_dir, stats_dir):
        digest.update(b"|")  # the transfers' files and the stats' files never hash alike
        files = csv_files([folder]) if folder is not None and folder.is_dir() else []
        for path in sorted(files):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def cached_scenario(
    cache_dir: Path,
    data_dir: Path | None,
    base_until: int = 2012,
    last_season: int = 2022,
    synthetic: SyntheticPlan | None = None,
    stats_dir: Path | None = None,
) -> tuple[Scenario, bool]:
    """load_scenario's result, from the cache when these files were read before; (scenario, hit)."""
    key = scenario_key(data_dir, base_until, last_season, synthetic, stats_dir)
    path = cache_dir / f"scenario-{key}.json"
    if path.exists():
        try:
            found = _ADAPTER.validate_json(path.read_bytes())
            records = RecordMatch(**found.records)  # type: ignore[arg-type]
            return Scenario(found.source, found.history, found.stream, found.base_until, records), True
        except (ValidationError, OSError, TypeError) as exc:
            log.warning("reading the data again: the cached scenario %s is unusable: %s", path, exc)
    scenario = load_scenario(
        data_dir, base_until=base_until, last_season=last_season, synthetic=synthetic, stats_dir=stats_dir
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(
        _ADAPTER.dump_json(_Cached(source=scenario.source, base_until=scenario.base_until,
                                   history=scenario.history, stream=scenario.stream,
                                   records=asdict(scenario.records)))
    )  # fmt: skip
    partial.replace(path)  # whole or absent, even if the run is killed while writing
    return scenario, False
