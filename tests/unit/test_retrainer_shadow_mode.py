"""Shadow mode in the drift handler: a challenger that passes the gate goes to shadow, not to serving."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from modelstore.artifact import ModelArtifact
from retrainer.handler import DriftHandler
from retrainer.window import TrainingWindow
from tests.unit.test_retrainer_handler import FakeChallengers, FakeRegistry, Version, World, drift, requested


class Champion:
    def champion_artifact(self) -> ModelArtifact | None:
        return cast(ModelArtifact, SimpleNamespace(version="1"))


def handler(world: World, *, champion: bool = True) -> DriftHandler:
    base = world.handler
    base.promotion = "shadow"
    if champion:
        base.champions = Champion()
    return base


def test_a_better_challenger_goes_to_shadow_and_the_champion_keeps_serving() -> None:
    world = World(registry=FakeRegistry())
    outcome = handler(world).handle(drift())
    assert (outcome.status, outcome.version) == ("shadowed", "2")
    assert world.registry.published == [("registered", "2"), ("shadowed", "2")]
    assert world.registry.champion_version == "1"
    assert world.registry.versions["2"].decision == "shadow"


def test_drift_while_a_challenger_is_judged_waits_for_its_verdict_but_a_request_replaces_it() -> None:
    earlier = {"2": Version("an-earlier-drift", "shadow", "won")}
    world = World(registry=FakeRegistry(versions=earlier, in_shadow="2"))
    outcome = handler(world).handle(drift())
    assert outcome.status == "skipped" and "version 2 is in shadow" in outcome.reason
    assert world.registry.published == [] and world.challengers.trained == 0
    replaced = handler(world).handle(requested())
    assert (replaced.status, replaced.version, world.registry.in_shadow) == ("shadowed", "3", "3")


def test_a_first_model_has_no_champion_to_be_judged_against_and_is_promoted() -> None:
    world = World(registry=FakeRegistry(champion_version=None))
    outcome = handler(world, champion=False).handle(drift())
    assert outcome.status == "promoted" and world.registry.published[-1] == ("promoted", "2")


def test_a_worse_challenger_is_rejected_at_the_gate_in_shadow_mode_too() -> None:
    world = World(registry=FakeRegistry(), challengers=FakeChallengers(challenger_mae=1.5))
    outcome = handler(world).handle(drift())
    assert outcome.status == "rejected" and world.registry.published[-1] == ("rejected", "2")


def test_a_shadowing_cut_short_by_a_crash_is_carried_out_once() -> None:
    trigger = drift()
    registry = FakeRegistry(versions={"2": Version(trigger.event_id, "shadow", "won")})
    world = World(registry=registry)
    outcome = handler(world).handle(trigger)
    assert outcome.status == "shadowed" and registry.published == [("shadowed", "2")]
    again = handler(world).handle(trigger)
    assert again.status == "skipped" and registry.published == [("shadowed", "2")]
    assert world.challengers.trained == 0


def test_holdout_mode_promotes_at_once_as_before() -> None:
    world = World(registry=FakeRegistry())
    base = world.handler
    base.champions = Champion()
    assert base.handle(drift()).status == "promoted" and world.registry.in_shadow is None
    assert isinstance(base.window, TrainingWindow)
