"""Resolve the broker's jars from Maven Central with the pinned pom (devstack/kafka/pom.xml)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from stack.exceptions import PrerequisiteMissing, StackError

POM = Path(__file__).resolve().parent / "kafka" / "pom.xml"
STAMP = ".pom.sha256"


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def jars_ready(libs_dir: Path) -> bool:
    stamp = libs_dir / STAMP
    return stamp.exists() and stamp.read_text().strip() == _pom_digest()


def ensure_kafka_jars(libs_dir: Path) -> Path:
    """Copy the pinned broker and its runtime dependencies into ``libs_dir`` (idempotent)."""
    if jars_ready(libs_dir):
        return libs_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise PrerequisiteMissing("Maven (mvn) is needed to fetch the Kafka jars: apt-get install maven")
    staging = libs_dir.with_name(libs_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    result = subprocess.run(  # noqa: S603 - fixed argv
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"Maven could not resolve the Kafka jars:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
        )
    (staging / STAMP).write_text(_pom_digest())
    # Swap in whole, so an interrupted download never leaves a half set of jars behind.
    shutil.rmtree(libs_dir, ignore_errors=True)
    staging.rename(libs_dir)
    return libs_dir


def kafka_version() -> str:
    """The broker version pinned in the pom."""
    text = POM.read_text()
    start = text.index("<kafka.version>") + len("<kafka.version>")
    return text[start : text.index("</kafka.version>")]
