"""Download the pinned public data files: resumable, verified, never half-written.

A download goes to ``<target>.part`` (resumed with an HTTP Range request when a part is
there) and becomes ``<target>`` only once its SHA-256 matches the manifest
(producers.sources); a mismatch deletes the part and raises. A file already in place with
the right checksum is not downloaded again. The Understat parquet file is then turned into
the CSV layout `ingest stats` reads, again through a temporary file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from producers.exceptions import ProducerError
from producers.sources import STATS_CSV, Source

Progress = Callable[[str, int, int | None], None]  # (file name, bytes so far, total if known)
CHUNK = 64 * 1024
STATS_LEAGUES = ("EPL", "La_Liga", "Bundesliga", "Serie_A", "Ligue_1")
STATS_COLUMNS = (
    "id", "player_name", "team_title", "league", "season", "year", "position", "primary_position",
    "games", "time", "goals", "assists", "npg", "xG", "xA", "npxG", "shots", "key_passes",
    "xGChain", "xGBuildup", "yellow_cards", "red_cards",
)  # fmt: skip


class FetchError(ProducerError):
    """A data file could not be downloaded."""


class NoNetworkError(FetchError):
    """The server could not be reached at all."""


class ChecksumMismatchError(FetchError):
    """A downloaded file is not the pinned one; it was deleted."""


@dataclass(frozen=True)
class Fetched:
    source: Source
    path: Path
    status: Literal["downloaded", "resumed", "present"]
    size: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_file(
    client: httpx.Client, base_url: str, source: Source, data_dir: Path, progress: Progress | None = None
) -> Fetched:
    """Download one source into data_dir (see the module docstring)."""
    target = data_dir / source.target
    if target.exists() and sha256_of(target) == source.sha256:
        return Fetched(source, target, "present", target.stat().st_size)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    url = base_url.rstrip("/") + "/" + source.path
    resumed = _download(client, url, part, source, progress)
    found = sha256_of(part)
    if found != source.sha256:
        part.unlink()
        raise ChecksumMismatchError(
            f"{url}: SHA-256 {found} is not the pinned {source.sha256}; the download was deleted"
        )
    os.replace(part, target)
    return Fetched(source, target, "resumed" if resumed else "downloaded", target.stat().st_size)


def _download(client: httpx.Client, url: str, part: Path, source: Source, progress: Progress | None) -> bool:
    """Write the file into part, resuming it when possible; whether it resumed."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and have:
                return True  # the part is already whole: the checksum decides
            if response.status_code not in (200, 206):
                raise FetchError(f"{url}: HTTP {response.status_code}")
            resumed = response.status_code == 206
            done = have if resumed else 0
            total = _total(response, done) or source.size
            with part.open("ab" if resumed else "wb") as handle:
                for chunk in response.iter_bytes(CHUNK):
                    handle.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(source.target, done, total)
            return resumed
    except httpx.ConnectError as exc:
        raise NoNetworkError(f"cannot reach {httpx.URL(url).host}: {exc} (no network?)") from exc
    except httpx.TransportError as exc:
        raise FetchError(f"{url}: download interrupted ({exc}); run again to resume") from exc


def _total(response: httpx.Response, offset: int) -> int | None:
    length = response.headers.get("content-length")
    return offset + int(length) if length and length.isdigit() else None


def stats_csv(parquet: Path) -> Path:
    """The CSV `ingest stats` reads, made from the verified parquet file (five leagues, the
    columns in the reader's order, floats to four decimals), through a temporary file."""
    import pandas as pd

    target = parquet.with_name(STATS_CSV)
    frame = pd.read_parquet(parquet)
    missing = [column for column in STATS_COLUMNS if column not in frame.columns]
    if missing:
        raise FetchError(f"{parquet}: the parquet file lacks column(s) {missing}")
    frame = frame[frame["league"].isin(STATS_LEAGUES)][list(STATS_COLUMNS)]
    temporary = target.with_name(target.name + ".part")
    frame.to_csv(temporary, index=False, float_format="%.4f")
    os.replace(temporary, target)
    return target


def fetch_data(
    data_dir: Path,
    transfers_url: str,
    stats_url: str,
    transfer_sources: list[Source],
    stats_source: Source | None,
    progress: Progress | None = None,
    timeout_s: float = 60.0,
) -> list[Fetched]:
    """Every requested file into data_dir (transfers/, player-stats/), in order; the first
    failure raises, after the files before it were completed."""
    fetched: list[Fetched] = []
    with httpx.Client(timeout=timeout_s, follow_redirects=True) as client:
        for source in transfer_sources:
            fetched.append(fetch_file(client, transfers_url, source, data_dir, progress))
        if stats_source is not None:
            done = fetch_file(client, stats_url, stats_source, data_dir, progress)
            csv_path = done.path.with_name(STATS_CSV)
            if done.status != "present" or not csv_path.exists():
                stats_csv(done.path)
            fetched.append(done)
    return fetched
