"""Wiring of `mlops-fc monitor`: settings in, clients built, the loop run until a signal."""

from __future__ import annotations

import logging
import signal
import threading
from functools import partial

from confluent_kafka import Producer

from modelstore.calibration import BoundsStore
from modelstore.lifecycle import Registry
from modelstore.lifecycle_log import lifecycle_holds
from modelstore.redis_cache import ModelCache
from modelstore.shadow import pairs_prefix
from modelstore.verdict_outbox import OutboxVerdicts, VerdictOutbox
from monitoring.calibration import Calibrator
from monitoring.config import DriftConfig
from monitoring.feature_check import preload
from monitoring.live_evidence import LiveEvidence, calibration_config
from monitoring.loop import MonitorLoop, MonitorTopics
from monitoring.monitor import DriftMonitor
from monitoring.reference import StoreReferences
from monitoring.reports import BackgroundReports, FileReports, ReportSink
from monitoring.shadow_decider import ShadowConfig, ShadowDecider
from monitoring.shadow_pairs import RedisPairs
from monitoring.shadow_residuals import ShadowResiduals
from monitoring.state import SavedState
from stack.kafka_clients import make_consumer, make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings

log = logging.getLogger(__name__)
SHADOW_SOURCE = "shadow-judge"


def build_monitor(
    settings: Settings, evidence: LiveEvidence | None = None, reports: ReportSink | None = None
) -> DriftMonitor:
    """The pure monitor over the Redis model cache (same key prefix as the workers)."""
    references = StoreReferences(
        store=ModelCache(redis_client(settings), prefix=settings.topic_prefix),
        model_name=settings.model_name,
        signing_key=settings.model_signing_key,
    )
    return DriftMonitor(
        DriftConfig.from_settings(settings),
        references,
        reports or FileReports(settings.state_dir, settings.drift_reports_keep),
        observers=() if evidence is None else (evidence,),
    )


def build_loop(settings: Settings) -> MonitorLoop:
    """The monitor with its consumer (group ``<topic_prefix><monitor_group_id>``) and producer."""
    store = redis_client(settings)
    bounds = BoundsStore(store, settings.topic_prefix, settings.model_name)
    evidence = LiveEvidence(Calibrator(calibration_config(settings)), publish=bounds.publish)
    # The HTML of a drift event is written beside the loop: the event goes out without waiting.
    reports = BackgroundReports(settings.state_dir, settings.drift_reports_keep)
    monitor = build_monitor(settings, evidence, reports)
    if not monitor.refresh():
        log.warning("no model %s in Redis yet: drift checks start with the first one", settings.model_name)
    producer = make_producer(settings)
    shadow_mode = settings.promotion == "shadow"
    return MonitorLoop(
        consumer=make_consumer(settings, f"{settings.topic_prefix}{settings.monitor_group_id}"),
        producer=producer,
        monitor=monitor,
        topics=MonitorTopics.from_settings(settings),
        state=SavedState(
            redis_client(settings),
            f"{settings.topic_prefix}mlops-fc:monitor:{settings.monitor_group_id}:state",
        ),
        after_batch=lambda: evidence.flush(store, settings.topic_prefix, settings.model_name),
        shadow=build_shadow_decider(settings, producer) if shadow_mode else None,
        shadow_residuals=(
            ShadowResiduals(evidence.on_shadow_outcome, settings.drift_pending_limit) if shadow_mode else None
        ),
        on_stop=reports.close,
    )


def build_shadow_decider(settings: Settings, producer: Producer) -> ShadowDecider:
    """The shadow verdicts, acting through the lifecycle registry (MLflow, Redis, Kafka)."""
    registry = Registry.connect(settings, producer, source=SHADOW_SOURCE)
    outbox = VerdictOutbox(redis_client(settings), settings.topic_prefix, settings.model_name)
    verdicts = OutboxVerdicts(registry, outbox, announced=partial(lifecycle_holds, settings))
    # A verdict cut short by a crash is finished (and announced, once) before judging on.
    verdicts.finish_pending()
    registry.reconcile_shadow()
    decider = ShadowDecider(
        verdicts=verdicts,
        pairs=RedisPairs(redis_client(settings), pairs_prefix(settings.topic_prefix, settings.model_name)),
        config=ShadowConfig.from_settings(settings),
    )
    decider.refresh()
    return decider


def run_monitor(settings: Settings) -> None:
    """Run the drift monitor until SIGTERM or Ctrl-C; the current batch finishes first."""
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.warning("signal %d: stopping after the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    preload()  # Evidently, while the loop connects and joins its group
    loop = build_loop(settings)
    loop.run(stop)
    stats = loop.monitor.stats
    log.warning(
        "drift monitor stopped: %d messages, %d checks (%.1f s), %d events",
        loop.processed,
        stats.checks,
        stats.check_seconds,
        stats.events,
    )
