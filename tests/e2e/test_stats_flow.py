"""Season records on the real stack: ingested, folded by a real worker, served in the vectors
the retrainer computes offline; bad rows dead-lettered with their raw line."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.training_set import build_training_set
from features.vector import FEATURE_NAMES
from producers.ingest import ingest_csv, ingest_stats
from producers.transfermarkt import read_transfers_csv
from retrainer.history import read_history
from retrainer.initial import train_initial
from schemas.codec import decode
from schemas.deadletters import DeadLetter
from stack.settings import Settings
from tests.flow_helpers import collecting, running_workers
from tests.producer_kafka import read_to_end
from tests.producer_samples import DATA_DIR
from tests.stats_samples import STATS_FILE

pytestmark = pytest.mark.skipif(not STATS_FILE.is_file(), reason="needs ../shared/data")
LEAGUE = DATA_DIR / "ligue-1.csv"
RESULT_TIMEOUT = 300.0
BAD_LINES = [
    "999001,Bad Minutes,Lille,Ligue_1,2015/16,2015,M S,M,30,many,1,1,1,1.0,1.0,1.0,5,5,1.0,1.0,0,0",
    "999002,Too Few Fields,Lille,Ligue_1,2015/16",
]


def stats_sample(tmp_path: Path) -> Path:
    """The Ligue 1 rows of the shared season file (raw lines kept), and two broken rows."""
    header, *lines = STATS_FILE.read_text(encoding="utf-8").splitlines()
    sample = [line for line in lines if ",Ligue_1," in line]
    path = tmp_path / "ligue-1-stats.csv"
    path.write_text("\n".join([header, *sample, *BAD_LINES]) + "\n", encoding="utf-8")
    return path


@pytest.mark.timeout(1500)  # a league and its requests through a worker, on 2 shared cores
def test_records_are_served_in_the_retrainers_vectors(settings: Settings, tmp_path: Path) -> None:
    stats = ingest_stats(settings, [stats_sample(tmp_path)], [LEAGUE])
    assert stats.stats["matched"] > 1000, stats.as_dict()
    assert stats.dead_lettered == len(BAD_LINES)
    assert stats.published["players.season-stats"] == stats.stats["matched"]

    early = [t for t in read_transfers_csv([LEAGUE]).transfers if 2009 <= t.season <= 2012]
    assert train_initial(settings, transfers=early).version == "1"
    with collecting(settings) as results, running_workers(settings, "w1") as (worker,):
        # Three seasons of the league: ids are the ingest's own, so worker and retrainer agree
        summary = ingest_csv(settings, [LEAGUE], seasons=(2013, 2015), as_requests=True)
        assert summary.requests > 300
        frame = build_training_set(read_history(settings)[0]).set_index("transfer_id")
        ids = [f"replay-{tid}" for tid in frame.index]
        missing = results.wait_for_ids(ids, RESULT_TIMEOUT)
        assert not missing, f"{len(missing)} of {len(ids)} unanswered\n{worker.log_tail()}"
    assert len(frame) == summary.requests
    with_record = 0
    for tid, row in frame.iterrows():
        (result,) = results.results[f"replay-{tid}"]
        assert result.status == "ok" and result.model_version == "1"
        assert result.features == pytest.approx(row[list(FEATURE_NAMES)].to_dict()), tid
        with_record += result.features["has_record"] == 1.0
    recent = frame[frame["season"] >= 2015]
    assert with_record == int(frame["has_record"].sum()) and with_record >= 0.2 * len(recent)

    letters = [
        decode(m.value(), m.headers(), expected=DeadLetter) for m in read_to_end(settings, "deadletters")
    ]
    assert [letter.raw_value() for letter in letters] == [line.encode() for line in BAD_LINES]
    assert {letter.source for letter in letters} == {"producers.stats"}
    assert "time 'many'" in letters[0].reason
