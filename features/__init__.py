"""Pure feature state and vectors, shared by the inference worker and the retrainer's replay.

update.py changes state (state, event) -> state; vector.py reads it (state, request) ->
features, point in time; training_set.py replays events through both.
"""

from features.state import ClubState, MarketState, PlayerState
from features.store import InMemoryFeatureStore
from features.training_set import build_training_set
from features.update import update_club, update_market, update_player
from features.vector import FEATURE_NAMES, vector, vector_matrix

__all__ = [
    "FEATURE_NAMES",
    "ClubState",
    "InMemoryFeatureStore",
    "MarketState",
    "PlayerState",
    "build_training_set",
    "update_club",
    "update_market",
    "update_player",
    "vector",
    "vector_matrix",
]
