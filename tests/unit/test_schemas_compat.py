"""Schema evolution: newer versions only add optional fields; older messages still parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.codec import decode, encode
from schemas.examples import example_of
from schemas.export import json_schema_of
from schemas.predictions import PredictionRequest, PredictionRequestV1
from schemas.registry import FAMILIES, LATEST, schema_version_of, upgrade_to_latest

SAMPLES = Path(__file__).parent / "samples"
VERSIONED = {name: family for name, family in FAMILIES.items() if len(family) > 1}


def test_a_stored_v1_request_still_parses() -> None:
    raw = (SAMPLES / "prediction_request_v1.json").read_bytes()
    original = decode(raw, upgrade=False)
    assert type(original) is PredictionRequestV1

    request = decode(raw, expected=PredictionRequest)
    assert type(request) is PredictionRequest and request.schema_version == 2
    assert request.market_value_eur_m is None
    assert request.event_id == original.event_id and request.trace_id == "trace-v1-sample"
    assert request.position == "Left Winger" and request.transfer_id == "t-2012-winter-0007"


def test_an_inline_v1_literal_still_parses() -> None:
    raw = (
        b'{"event_type":"PredictionRequest","schema_version":1,'
        b'"event_id":"0b9c6f3e-8a8f-4a55-9d55-4f0d1c2b3a49","occurred_at":"2012-07-01T00:00:00Z",'
        b'"source":"rest","trace_id":"t","request_id":"r","player_id":"p","position":"Goalkeeper",'
        b'"from_club":"A","to_club":"B","season":2012,"window":"summer",'
        b'"requested_at":"2012-07-01T00:00:00+00:00"}'
    )
    assert decode(raw).schema_version == 2


def test_upgraded_events_re_encode_as_the_newest_version() -> None:
    upgraded = upgrade_to_latest(example_of(PredictionRequestV1))
    _, value, headers = encode(upgraded)
    assert dict(headers)["schema_version"] == b"2"
    assert decode(value) == upgraded


def test_there_is_a_versioned_family_to_check() -> None:
    assert "PredictionRequest" in VERSIONED


@pytest.mark.parametrize("name", sorted(VERSIONED))
def test_newer_versions_only_add_optional_fields(name: str) -> None:
    family = VERSIONED[name]
    assert [schema_version_of(cls) for cls in family] == list(range(1, len(family) + 1))
    assert LATEST[name] is family[-1]
    for older, newer in zip(family, family[1:], strict=False):
        old_fields, new_fields = older.model_fields, newer.model_fields
        assert set(old_fields) <= set(new_fields), "a field was removed"
        old_required = {f for f, info in old_fields.items() if info.is_required()}
        new_required = {f for f, info in new_fields.items() if info.is_required()}
        assert new_required <= old_required, f"{newer.__name__} requires new fields"
        # Shared fields keep their type and constraints (schema_version aside).
        old_props = json_schema_of(older)["properties"]
        new_props = json_schema_of(newer)["properties"]
        for field in set(old_fields) - {"schema_version"}:
            assert old_props[field] == new_props[field], field


@pytest.mark.parametrize("name", sorted(VERSIONED))
def test_every_older_version_upgrades(name: str) -> None:
    for cls in VERSIONED[name][:-1]:
        assert type(upgrade_to_latest(example_of(cls))) is LATEST[name]
