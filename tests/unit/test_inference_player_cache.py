"""DecodedPlayers: a PlayerState per stored dict, never a stale one."""

from __future__ import annotations

from features.state import PlayerState, Sighting
from inference.player_cache import DecodedPlayers


def _stored(age: int) -> dict:
    return PlayerState("p1", sightings=(Sighting(1.0e9, None, age, "Goalkeeper", "c1"),)).to_dict()


def test_the_same_stored_dict_gives_the_same_state_object() -> None:
    cache = DecodedPlayers()
    stored = _stored(24)
    first = cache.get("p1", stored)
    assert first == PlayerState.from_dict(stored)
    assert cache.get("p1", stored) is first


def test_a_new_dict_with_the_same_content_is_decoded_again() -> None:
    # The table replaces its value on every update: identity, not equality, decides.
    cache = DecodedPlayers()
    first = cache.get("p1", _stored(24))
    again = cache.get("p1", _stored(24))
    assert again == first and again is not first


def test_an_update_is_served_at_once() -> None:
    cache = DecodedPlayers()
    cache.get("p1", _stored(24))
    newer = _stored(25)
    state = PlayerState.from_dict(newer)
    cache.put("p1", newer, state)
    assert cache.get("p1", newer) is state
    served = cache.get("p1", newer)
    assert served is not None and served.sightings[0].age == 25


def test_no_stored_value_means_no_state_and_forgets_the_old_one() -> None:
    cache = DecodedPlayers()
    cache.get("p1", _stored(24))
    assert cache.get("p1", None) is None
    assert len(cache) == 0


def test_forget_drops_entries() -> None:
    cache = DecodedPlayers()
    cache.get("p1", _stored(24))
    cache.get("p2", {**_stored(30), "player_id": "p2"})
    assert len(cache) == 2
    cache.forget()
    assert len(cache) == 0
