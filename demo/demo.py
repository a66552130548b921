"""`mlops-fc run`: the closed loop on real transfers, judged against a model that never learns.

A first model learns seasons up to 2012. Then 2013-2022 stream in, one real transfer window
at a time, each paid transfer as a request followed by its real fee, through the services
of `mlops-fc up` (worker, drift monitor, retrainer). Between two windows the job waits for
each stage's own progress signal, as months pass between real windows: every request
answered (the results topic), then the monitor's and the retrainer's commits reaching the
ends of their inputs (read from __consumer_offsets as they happen). After each window the
live and static MAE so far go to the console and to the flows page's chart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from uuid import UUID

from demo.commits import CommitWatch, end_offsets
from demo.live import LiveScore, WindowPoint, write_progress
from demo.report import DemoReport, build_report, load_static, write_report
from demo.scenario import Ingested, Scenario, is_paid, steps
from demo.tail import TopicTail
from producers.ingest import transfer_events
from producers.publisher import KafkaPublisher
from retrainer.initial import train_initial
from schemas.envelope import Event
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelRolledBack
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionResult, replay_request_id
from schemas.topics import (
    MODELS_LIFECYCLE,
    MONITORING_DRIFT,
    PREDICTIONS_RESULTS,
    PREDICTIONS_SHADOW,
    TRANSFERS_COMPLETED,
)
from stack.kafka_clients import make_producer
from stack.settings import Settings
from stack.supervised import run_progress_file
from stack.topic_admin import ensure_topics

log = logging.getLogger(__name__)
STAGE_TIMEOUT_S = 900.0
# Paid transfers published before the job waits for every stage: a window's later requests
# then meet what its earlier fees taught (bench/promotion.py, the README's steps paragraph).
STEP_REQUESTS = 100
DECISIONS = (DriftDetected, ModelPromoted, ModelRejected, ModelRolledBack)


class StageStuck(RuntimeError):
    """A stage did not catch up before its deadline, or the services went away."""


@dataclass
class Hooks:
    """How the caller follows the run: per window, per decision, and whether services live."""

    on_window: Callable[[WindowPoint], None] = lambda point: None
    on_event: Callable[[Event], None] = lambda event: None  # called from the tail's thread
    alive: Callable[[], bool] = lambda: True
    explain: Callable[[], str] = lambda: ""
    # Returns once the services are ready: they start while the history is published and
    # the first model trained (both need only the broker, Redis and MLflow).
    services_ready: Callable[[], None] = lambda: None


@dataclass
class _Seen:
    """Filled by the tail's thread: answered request ids, decisions and the window they came in."""

    hooks: Hooks
    window: tuple[int, str] = (0, "")
    answered: set[str] = field(default_factory=set)
    during: dict[UUID, tuple[int, str]] = field(default_factory=dict)
    decisions: list[dict[str, object]] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        if isinstance(event, PredictionResult):
            self.answered.add(event.request_id)
        elif isinstance(event, DECISIONS):
            self.during.setdefault(event.event_id, self.window)
            self.decisions.append(
                {"event_type": type(event).__name__, "window": "{} {}".format(*self.window), **_brief(event)}
            )
            self.hooks.on_event(event)


def _brief(event: Event) -> dict[str, object]:
    keys = ("kind", "model_version", "version", "previous_version", "reason", "from_version", "to_version")
    return {k: getattr(event, k) for k in keys if getattr(event, k, None) is not None}


def run_demo(
    settings: Settings,
    scenario: Scenario,
    out_dir: Path,
    hooks: Hooks | None = None,
    step_requests: int = STEP_REQUESTS,
) -> DemoReport:
    """Run the scenario through the running services under ``settings.topic_prefix``.

    Each window is published in steps of at most ``step_requests`` paid transfers (0: the
    whole window at once), every stage waited for after each step (demo.scenario.steps).
    """
    hooks = hooks or Hooks()
    started = time.monotonic()
    ensure_topics(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    _publish(settings, scenario.history, as_requests=False)
    published = time.monotonic()
    # Every run starts from the same history: its first model is fitted once, then reused.
    first = train_initial(
        settings, transfers=scenario.history_transfers, cache_dir=settings.state_dir / "cache" / "models"
    )
    log.info("model version %s trained on seasons up to %d", first.version, scenario.base_until)
    trained = time.monotonic()
    hooks.services_ready()
    startup_s = {
        "history_published": round(published - started, 3),
        "first_model": round(trained - published, 3),
        "first_model_cached": float(first.cached),
        "services_ready": round(time.monotonic() - trained, 3),
    }
    live = LiveScore(load_static(settings, first.version))
    fees = {e.transfer_id: e for e in scenario.stream if is_paid(e)}
    seen = _Seen(hooks)
    progress = run_progress_file(settings.state_dir)
    write_progress(progress, settings.topic_prefix, [], [])
    topics = [settings.topic(t.name) for t in (PREDICTIONS_RESULTS, MODELS_LIFECYCLE, MONITORING_DRIFT)]
    with TopicTail(settings, topics, name="demo", on_event=seen) as tail, CommitWatch(settings) as commits:
        windows = scenario.windows()
        for index, (window, events) in enumerate(windows, start=1):
            seen.window = window
            stage_s: dict[str, float] = {}
            for step in steps(events, step_requests):
                for stage, seconds in _step(settings, tail, commits, seen, step, hooks).items():
                    stage_s[stage] = round(stage_s.get(stage, 0.0) + seconds, 3)
            asked = _asked(events)
            results = [
                e for e in tail.snapshot() if isinstance(e, PredictionResult) and e.request_id in asked
            ]
            window_live, window_static, _ = live.judge(results, fees)
            point = WindowPoint(
                index, len(windows), window[0], window[1], len(asked), live.live_mae, live.static_mae,
                window_live, window_static, _serving(results), stage_s,
            )  # fmt: skip
            live.points.append(point)
            write_progress(progress, settings.topic_prefix, live.points, seen.decisions)
            hooks.on_window(point)
        events_seen = tail.snapshot()
    report = build_report(settings, scenario, first.version, events_seen, seen.during, started)
    report.windows = [asdict(p) for p in live.points]
    report.startup_s = startup_s
    write_report(report, out_dir)
    return report


def _step(
    settings: Settings,
    tail: TopicTail,
    commits: CommitWatch,
    seen: _Seen,
    events: list[Ingested],
    hooks: Hooks,
) -> dict[str, float]:
    """Publish one step of a window, then wait for each stage in turn; seconds spent on each."""
    marks = [time.monotonic()]
    asked = _asked(events)
    _publish(settings, events, as_requests=True)
    marks.append(time.monotonic())
    if not tail.wait_until(lambda _events: asked <= seen.answered, STAGE_TIMEOUT_S):
        raise StageStuck(f"requests were not all answered\n{hooks.explain()}")
    marks.append(time.monotonic())
    # The monitor's verdicts rest on the shadow's answers too: a window is over for it once it
    # read them, or a shadow verdict due on this window's fees would come a window late.
    shadow = (PREDICTIONS_SHADOW.name,) if settings.promotion == "shadow" else ()
    stages = (
        (settings.monitor_group_id, (PREDICTIONS_RESULTS.name, TRANSFERS_COMPLETED.name, *shadow)),
        ("mlops-fc-retrainer", (MONITORING_DRIFT.name,)),
    )
    for group, inputs in stages:
        # The ends are read once, after the stage before finished writing to them.
        ends = end_offsets(settings, [settings.topic(name) for name in inputs])
        if not commits.wait_for(f"{settings.topic_prefix}{group}", ends, STAGE_TIMEOUT_S, hooks.alive):
            raise StageStuck(f"{group} did not catch up with {', '.join(inputs)}\n{hooks.explain()}")
        marks.append(time.monotonic())
    names = ("publish", "answered", "monitor", "retrainer")
    return {name: round(b - a, 3) for name, a, b in zip(names, marks[:-1], marks[1:], strict=True)}


def _asked(events: list[Ingested]) -> set[str]:
    """The request ids the replay asks for these events: one per paid transfer."""
    return {replay_request_id(e.transfer_id) for e in events if is_paid(e)}


def _serving(results: list[PredictionResult]) -> str | None:
    versions = [r.model_version for r in results if r.model_version]
    return versions[-1] if versions else None


def _publish(settings: Settings, events: list[Ingested], as_requests: bool) -> None:
    publisher = KafkaPublisher(settings, make_producer(settings))
    for spec, event in transfer_events(events, as_requests):
        publisher.publish(spec, event)
        publisher.poll()
    publisher.close()
