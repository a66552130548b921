"""Fresh stacks always format: 200 fresh data folders, each with a new cluster id, through the
real `kafka-storage format` (in one JVM, FormatMany.java, so the test takes seconds per
hundred instead of a JVM start each). Before the fix, 1 id in 64 began with '-' and failed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devstack.kafka_broker import LOG4J_CONFIG, KafkaBroker, _cluster_id, format_arguments
from devstack.kafka_jars import ensure_kafka_jars
from devstack.processes import free_port
from stack.settings import Settings

FRESH_STACKS = 200
HARNESS = Path(__file__).resolve().parent / "kafka_format" / "FormatMany.java"


def _properties(state_dir: Path) -> Path:
    """The broker's own server.properties for a fresh state folder (written, not started)."""
    settings = Settings(
        environment="test",
        state_dir=state_dir,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
    )
    broker = KafkaBroker(settings)
    host, port = broker.host_port
    return broker._write_properties(host, port)


def _format_all(lines: list[list[str]], tmp_path: Path) -> list[str]:
    java = shutil.which("java")
    if java is None:
        pytest.skip("Java 17 is needed to run kafka-storage")
    jars = ensure_kafka_jars(Settings().kafka_jars_dir)
    args_file = tmp_path / "formats.tsv"
    args_file.write_text("".join("\t".join(line) + "\n" for line in lines))
    done = subprocess.run(  # noqa: S603 - our own harness
        [
            java,
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp",
            f"{jars}/*",
            str(HARNESS),
            str(args_file),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_two_hundred_fresh_state_dirs_all_format(tmp_path: Path) -> None:
    ids = [_cluster_id() for _ in range(FRESH_STACKS)]
    folders = [tmp_path / f"stack-{i:03d}" for i in range(FRESH_STACKS)]
    lines = [format_arguments(cid, _properties(folder)) for cid, folder in zip(ids, folders, strict=True)]
    # The control line: an id as the old code made one time in 64 must still fail here,
    # or this harness could not tell a fixed id from a broken one.
    control = tmp_path / "control"
    lines.append(format_arguments("-" + ids[0][1:], _properties(control)))

    outcomes = _format_all(lines, tmp_path)

    assert len(outcomes) == FRESH_STACKS + 1
    failed = [(cid, out) for cid, out in zip(ids, outcomes, strict=False) if out != "ok"]
    assert not failed, failed[:5]
    assert outcomes[-1].startswith("fail"), "a cluster id starting with '-' was accepted"
    for cid, folder in zip(ids, folders, strict=True):
        meta = (folder / "kafka" / "data" / "meta.properties").read_text()
        assert f"cluster.id={cid}\n" in meta
