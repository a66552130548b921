"""`mlops-fc data fetch` against a local HTTP server serving copies of the shared files."""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from producers.fetch import ChecksumMismatchError, NoNetworkError, fetch_data
from producers.sources import STATS_FILE, transfer_source
from producers.stats_rows import BadRow, read_stats_rows
from tests.producer_samples import DATA_DIR
from tests.stats_samples import STATS_FILE as SHARED_STATS

pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="needs ../shared/data")
LEAGUE = "ligue-1"


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files, honouring "Range: bytes=N-" as GitHub's raw server does."""

    requests: list[str | None] = []

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        RangeHandler.requests.append(self.headers.get("Range"))
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        path = Path(self.translate_path(self.path))
        if match is None or not path.is_file():
            return super().send_head()
        start, data = int(match[1]), path.read_bytes()
        if start >= len(data):
            self.send_error(416)
            return None
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        import io

        return io.BytesIO(data[start:])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A server root with data/<league>.csv (the shared copy) and a parquet made from the
    shared season file (its own checksum: the pinned parquet itself is not in ../shared)."""
    root = tmp_path / "www"
    (root / "data").mkdir(parents=True)
    shutil.copy(DATA_DIR / f"{LEAGUE}.csv", root / "data" / f"{LEAGUE}.csv")
    frame = pd.read_csv(SHARED_STATS).head(300)
    frame["scrape_timestamp"] = "2025-09-01"
    frame.to_parquet(root / STATS_FILE.path, index=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    RangeHandler.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _stats_source(root: Path) -> object:
    digest = hashlib.sha256((root / STATS_FILE.path).read_bytes()).hexdigest()
    return replace(STATS_FILE, sha256=digest, size=None)


def test_fetches_verifies_and_converts(served: tuple[str, Path], tmp_path: Path) -> None:
    url, root = served
    dest = tmp_path / "data"
    fetched = fetch_data(dest, url, url, [transfer_source(LEAGUE)], _stats_source(root))  # type: ignore[arg-type]
    assert [f.status for f in fetched] == ["downloaded", "downloaded"]
    league = dest / "transfers" / f"{LEAGUE}.csv"
    assert league.read_bytes() == (DATA_DIR / f"{LEAGUE}.csv").read_bytes()
    rows = list(read_stats_rows(dest / "player-stats" / "understat-2014-2024.csv"))
    assert len(rows) == 300 and not any(isinstance(r, BadRow) for r in rows)
    again = fetch_data(dest, url, url, [transfer_source(LEAGUE)], _stats_source(root))  # type: ignore[arg-type]
    assert [f.status for f in again] == ["present", "present"]
    assert not list(dest.rglob("*.part"))


def test_an_interrupted_download_resumes(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = served
    dest = tmp_path / "data"
    whole = (DATA_DIR / f"{LEAGUE}.csv").read_bytes()
    part = dest / "transfers" / f"{LEAGUE}.csv.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(whole[:100_000])
    (fetched,) = fetch_data(dest, url, url, [transfer_source(LEAGUE)], None)
    assert fetched.status == "resumed" and RangeHandler.requests == ["bytes=100000-"]
    assert fetched.path.read_bytes() == whole and not part.exists()


def test_a_checksum_mismatch_is_refused_and_nothing_is_left(served: tuple[str, Path], tmp_path: Path) -> None:
    url, root = served
    served_file = root / "data" / f"{LEAGUE}.csv"
    served_file.write_bytes(served_file.read_bytes().replace(b"Paris", b"Pariz", 1))
    dest = tmp_path / "data"
    with pytest.raises(ChecksumMismatchError, match="is not the pinned"):
        fetch_data(dest, url, url, [transfer_source(LEAGUE)], None)
    assert not (dest / "transfers" / f"{LEAGUE}.csv").exists()
    assert not list(dest.rglob("*.part"))


def test_no_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NoNetworkError, match="cannot reach 127.0.0.1"):
        fetch_data(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", [transfer_source(LEAGUE)], None)


def test_an_unknown_league_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown league 'bundesliga-2'"):
        transfer_source("bundesliga-2")
