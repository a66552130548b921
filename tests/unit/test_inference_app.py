"""The Faust app is only wiring: its agents, static membership and table, built with no broker."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from inference.app import build_app
from inference.bootstrap import WorkerClients
from inference.model_holder import ModelHolder
from inference.transfers_view import TransfersView
from modelstore.memory import InMemoryModelStore
from stack.settings import Settings


def clients() -> WorkerClients:
    nothing: Any = None  # never called: the app is built, not started
    return WorkerClients(
        faust_broker="kafka://127.0.0.1:1",
        faust_credentials=None,
        holder=ModelHolder(InMemoryModelStore(), "transfer-fee", b"key"),
        view=TransfersView("transfers.completed", reader=nothing, offsets_reader=nothing),
        results=nothing,
        admin=nothing,
        heartbeat_store=nothing,
        lifecycle_reader=nothing,
    )


def settings(**overrides: Any) -> Settings:
    return Settings(environment="test", topic_prefix="t-", **overrides)


def test_the_app_registers_both_agents_the_table_and_a_static_member_named_after_the_worker(
    tmp_path: Path,
) -> None:
    app = build_app(settings(), clients(), str(tmp_path), worker_name="w7")
    assert {agent.name for agent in app.agents.values()} == {"player-state", "score-requests"}
    assert "player-state" in app.tables
    assert app.conf.consumer_group_instance_id == "w7"
    assert app.conf.id == "t-mlops-fc-worker"
    topics = cast(Any, app.agents["player-state"].channel).topics
    assert set(topics) == {"t-players.records", "t-transfers.completed", "t-players.season-stats"}


def test_static_membership_can_be_turned_off(tmp_path: Path) -> None:
    app = build_app(settings(worker_static_membership=False), clients(), str(tmp_path), worker_name="w7")
    assert app.conf.consumer_group_instance_id is None


def test_the_app_takes_the_faust_tuning_and_the_lean_monitor(tmp_path: Path) -> None:
    from inference.faust.lean_monitor import LeanMonitor

    tuned = settings(
        worker_stream_buffer_maxsize=1000, worker_max_poll_records=500, worker_max_fetch_bytes=65536
    )
    app = build_app(tuned, clients(), str(tmp_path), worker_name="w7")
    assert app.conf.stream_buffer_maxsize == 1000
    assert app.conf.broker_max_poll_records == 500
    assert app.conf.consumer_max_fetch_size == 65536
    assert isinstance(app.monitor, LeanMonitor)
    assert app.monitor.on_stream_event_in(None, 0, None, None) is None  # no per-event bookkeeping
