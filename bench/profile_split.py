"""Where a worker's CPU goes: a py-spy sampling profile of the running process, split by part.

py-spy (``pip install py-spy``; not needed by the project itself) samples the worker from
outside, without stopping it (``--nonblocking``), and writes collapsed stacks. Each sample
is given to the part of the request path its innermost project frame belongs to:

    decode   schemas/codec.py decode (pydantic's validation runs inside it)
    state    player state, the transfers view, the read-your-writes barrier
    vector   features/ (the feature vector and the matrix built from it)
    predict  modelstore/ (the model's own predict, numpy, treelite, scikit-learn)
    result   inference/scoring.py (PredictionResult built per request)
    encode   schemas/codec.py encode (pydantic's JSON)
    produce  stack/async_producer.py (results handed to librdkafka, delivery callbacks)
    ours     the rest of inference/ (batch pipeline, confirmation chain, ledger, metrics)
    faust    everything else: Faust, mode, aiokafka, asyncio, the event loop (also under the
             agent's own loop in inference/app.py, the worker's main()); split further into faust.faust (Faust
             and mode), faust.aiokafka and faust.loop (asyncio or uvloop, selectors)

Only samples where a thread was running count (py-spy leaves idle ones out by default).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

PARTS = ("decode", "state", "vector", "predict", "result", "encode", "produce", "ours", "faust")
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::\d+)?\)$")
_SHELL_FILES = ("inference/app.py", "inference/bootstrap.py")
_FAUST_PARTS = (
    ("faust/", "faust"),
    ("mode/", "faust"),
    ("aiokafka/", "aiokafka"),
    ("asyncio/", "loop"),
    ("selectors.py", "loop"),
    ("uvloop/", "loop"),
)
_LOOP_RUNNERS = (
    "ServiceThread._start_thread ",
    "Worker.execute_from_commandline ",
    "BaseEventLoop.run_until_complete ",
    "BaseEventLoop.run_forever ",
)
_STATE_FILES = (
    "inference/player_state.py",
    "inference/player_cache.py",
    "inference/barrier.py",
    "inference/state_sync.py",
    "inference/transfers_view.py",
)


def py_spy() -> str | None:
    """The py-spy executable beside this interpreter, else on PATH (None: not installed)."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def part_of(frames: list[str]) -> str:
    """The part a sample belongs to: its innermost frame in one of our parts, else faust."""
    for frame in reversed(frames):
        match = _FRAME.match(frame.strip())
        if match is None:
            continue
        func, file = match["func"], match["file"].replace("\\", "/")
        if file.endswith("schemas/codec.py"):
            if func in ("encode", "encode_for"):
                return "encode"
            return "decode"
        if file.endswith(_STATE_FILES):
            return "state"
        if "/features/" in file or file.startswith("features/"):
            return "vector"
        if "/modelstore/" in file or file.startswith("modelstore/"):
            return "predict"
        if file.endswith("inference/scoring.py"):
            return "result"
        if file.endswith("stack/async_producer.py"):
            return "produce"
        if file.endswith("inference/result_codec.py"):
            return "encode"
        if file.endswith(_SHELL_FILES):
            return "faust"  # the agent's own loop: Faust's stream under our thin registration
        if "/inference/" in file or file.startswith("inference/"):
            return "ours"
    return "faust"


def faust_part_of(frames: list[str]) -> str:
    """Within faust: the event loop itself (asyncio, selectors), aiokafka, or Faust and mode."""
    if frames and frames[-1].strip().startswith(_LOOP_RUNNERS):
        return "loop"  # inside the loop's own C code (uvloop): py-spy sees only what started it
    for frame in reversed(frames):
        match = _FRAME.match(frame.strip())
        if match is None:
            continue
        file = match["file"]
        for prefix, part in _FAUST_PARTS:
            if file.startswith(prefix) or f"/{prefix}" in file:
                return part
    return "loop"


def split(collapsed: str) -> Counter[str]:
    """Samples per part from py-spy's raw (collapsed) output: ``frame;frame;... count`` lines."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        part = part_of(frames)
        counts[part] += int(count)
        if part == "faust":
            counts[f"faust.{faust_part_of(frames)}"] += int(count)
    return counts


def shares(counts: Counter[str]) -> dict[str, float]:
    """Each part's share of all samples (``faust.*``: the faust part split further)."""
    total = samples(counts) or 1
    subparts = sorted(name for name in counts if name.startswith("faust."))
    return {part: round(counts.get(part, 0) / total, 4) for part in (*PARTS, *subparts)}


def samples(counts: Counter[str]) -> int:
    return sum(count for part, count in counts.items() if "." not in part)


class Recording:
    """``py-spy record`` of one process until stop(); stop() returns the samples per part."""

    def __init__(self, pid: int, output: Path, rate: int = 250) -> None:
        executable = py_spy()
        if executable is None:
            raise FileNotFoundError("py-spy is not installed (pip install py-spy)")
        self.output = output
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [
                executable,
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                str(rate),
                "--nonblocking",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> Counter[str]:
        self.process.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        _, err = self.process.communicate(timeout=60)
        if not self.output.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        return split(self.output.read_text())
