"""Wiring of the retrainer: the handler's ports on the real stack, built once at start-up."""

from __future__ import annotations

import threading

from confluent_kafka import Producer

from modelstore.lifecycle import Registry
from retrainer.adapters import HistoryChallengers, MlflowVersions, RedisChampion, RedisCooldown
from retrainer.attempts import LockedHandler
from retrainer.handler import DriftHandler
from retrainer.lock import RetrainLock
from retrainer.window import TrainingWindow
from stack.redis_clients import redis_client
from stack.settings import Settings


def build_handler(
    settings: Settings,
    producer: Producer,
    stop: threading.Event,
    source: str,
    challengers: HistoryChallengers | None = None,
) -> LockedHandler:
    """The handler behind the retrain lock; connects to nothing until the first trigger."""
    redis = redis_client(settings)
    registry = Registry.connect(settings, producer, source=source)
    window = TrainingWindow.parse(settings.retrain_window)
    # One retrain at a time even with several retrainer processes (partitions may be split).
    # The lock expires unless renewed, so a killed holder blocks the others for one TTL at most.
    lock = RetrainLock(redis, f"{settings.topic_prefix}mlops-fc:retrainer:lock", settings.retrain_lock_ttl_s)
    handler = DriftHandler(
        versions=MlflowVersions(registry),
        lifecycle=registry,
        champions=RedisChampion(registry),
        cooldown=RedisCooldown(redis, f"{settings.topic_prefix}mlops-fc:retrainer:last-retrain"),
        lock=lock,
        challengers=challengers or HistoryChallengers(settings, window),
        window=window,
        cooldown_s=settings.retrain_cooldown_s,
        promotion=settings.promotion,
    )
    return LockedHandler(handler, lock, stop)
