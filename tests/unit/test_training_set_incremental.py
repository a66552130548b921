"""The retrainer's training set grows with its history: extending a replay gives the frame a
full replay gives, and a history that changed before its end is replayed from the start."""

from __future__ import annotations

import pandas as pd

from features.training_set import TrainingSetBuilder, build_training_set
from producers.synthetic import generate
from retrainer.adapters import HistoryChallengers
from retrainer.window import TrainingWindow
from schemas.records import TransferCompleted
from stack.settings import Settings


def test_an_extended_replay_is_the_full_replay() -> None:
    events = list(generate(3, range(2010, 2014), 80))
    builder = TrainingSetBuilder()
    builder.extend(events[:150])
    builder.extend(events[150:])
    pd.testing.assert_frame_equal(builder.frame(), build_training_set(events))
    assert builder.applied == len(events)


def test_the_retrainer_replays_only_what_is_new_unless_the_history_changed() -> None:
    events = [e for e in generate(4, range(2010, 2014), 80) if isinstance(e, TransferCompleted)]
    replay = HistoryChallengers(Settings(), TrainingWindow.parse("all")).replay
    pd.testing.assert_frame_equal(replay.frame([], events[:100]), build_training_set(events[:100]))
    pd.testing.assert_frame_equal(replay.frame([], events), build_training_set(events))
    assert replay.full_replays == 0  # the second call replayed only the rest

    changed = [events[1], events[0], *events[2:]]  # an earlier part differs: replayed anew
    pd.testing.assert_frame_equal(replay.frame([], changed), build_training_set(changed))
    assert replay.full_replays == 1
