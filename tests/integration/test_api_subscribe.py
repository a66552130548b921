"""`mlops-fc subscribe` on the real broker: decoded events, filters, dead letters with raw bytes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from devstack.services import settings_env
from schemas.codec import dead_letter
from schemas.predictions import PredictionResult
from schemas.topics import DEAD_LETTERS, PREDICTIONS_RESULTS
from stack.settings import Settings
from tests.flow_helpers import publish

pytestmark = pytest.mark.integration


def subscribe(settings: Settings, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "subscribe", *args],
        env=settings_env(settings),
        capture_output=True,
        timeout=120,
        check=True,
    )
    return done.stdout.decode()


def result(request_id: str, status: str) -> PredictionResult:
    fee = 1.5 if status == "ok" else None
    return PredictionResult(
        source="test", request_id=request_id, player_id="p", status=status, predicted_fee_eur_m=fee,  # type: ignore[arg-type]
        model_name="m", model_version="1",
    )  # fmt: skip


def test_filters_and_prints_decoded_events_as_json(settings: Settings) -> None:
    publish(settings, PREDICTIONS_RESULTS, [result("a", "no_model"), result("b", "ok"), result("c", "ok")])
    out = subscribe(
        settings, "predictions.results", "--from-beginning", "--filter", "status=ok", "--json",
        "--max-messages", "2",
    )  # fmt: skip
    shown = [json.loads(line) for line in out.splitlines()]
    assert sorted(s["event"]["request_id"] for s in shown) == ["b", "c"]
    assert all(s["event_type"] == "PredictionResult" and s["topic"] == "predictions.results" for s in shown)


def test_dead_letters_show_reason_and_raw_bytes(settings: Settings) -> None:
    letter = dead_letter(b'{"broken": tru', "json_invalid: EOF while parsing", "x", source="test")
    publish(settings, DEAD_LETTERS, [letter])
    out = subscribe(settings, "deadletters", "--from-beginning", "--max-messages", "1")
    assert "DeadLetter" in out and "json_invalid: EOF while parsing" in out
    assert '{"broken": tru' in out


def test_unknown_topic_is_refused(settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "subscribe", "nope"],
        env=settings_env(settings),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2 and b"unknown topic" in done.stderr


def test_catalogue_topic_missing_on_the_broker_is_refused(stack_settings: Settings) -> None:
    # a prefix whose topics were never created
    bare = stack_settings.model_copy(update={"topic_prefix": f"bare{uuid.uuid4().hex[:8]}."})
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "subscribe", "predictions.results"],
        env={**settings_env(bare), "COLUMNS": "400"},  # typer's error box wraps at the width
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2 and b"predictions.results does not exist" in done.stderr
