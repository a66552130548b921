"""The topic catalogue points at the event schemas, and every event has a topic."""

from __future__ import annotations

from schemas.envelope import Event
from schemas.predictions import PredictionResult
from schemas.registry import EVENT_CLASSES
from schemas.topics import CATALOGUE, PREDICTIONS_RESULTS, PREDICTIONS_SHADOW, TRANSFERS_COMPLETED


def _all_subclasses(cls: type[Event]) -> set[type[Event]]:
    found: set[type[Event]] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_subclasses(sub)
    return found


def test_every_event_class_is_registered() -> None:
    concrete = {cls for cls in _all_subclasses(Event) if not cls.__name__.startswith("_")}
    assert concrete == set(EVENT_CLASSES)


def test_every_event_class_has_exactly_one_topic() -> None:
    # The one exception: a challenger's results in shadow are results too, on their own topic.
    homes = [cls for spec in CATALOGUE if spec is not PREDICTIONS_SHADOW for cls in spec.event_classes()]
    assert sorted(homes, key=repr) == sorted(EVENT_CLASSES, key=repr)
    assert PREDICTIONS_SHADOW.event_classes() == (PredictionResult,)
    assert PREDICTIONS_SHADOW.key == PREDICTIONS_RESULTS.key == "request_id"


def test_topic_keys_are_required_fields_of_their_events() -> None:
    for spec in CATALOGUE:
        for cls in spec.event_classes():
            assert cls.model_fields[spec.key].is_required(), (spec.name, cls.__name__)


def test_topic_configs() -> None:
    assert TRANSFERS_COMPLETED.configs()["retention.ms"] == "-1"
    assert {spec.name for spec in CATALOGUE} >= {"players.records", "deadletters"}
