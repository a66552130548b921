"""Schema evolution: newer versions only add optional fields; older messages still parse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.codec import decode, encode
from schemas.evidence import HoldoutEvidence, ShadowEvidence
from schemas.examples import example_of
from schemas.export import json_schema_of
from schemas.lifecycle import ModelPromoted, ModelPromotedV1, ModelPromotedV2, ModelRejected
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
        # Shared fields keep their type and constraints (schema_version aside), or widen a
        # union: whatever the older version accepted, the newer one accepts the same way.
        old_schema, new_schema = json_schema_of(older), json_schema_of(newer)
        for field in set(old_fields) - {"schema_version"}:
            assert accepts_all_of(new_schema, old_schema, field), field


def accepts_all_of(new: dict[str, Any], old: dict[str, Any], field: str) -> bool:
    """The same schema for ``field``, or a union whose members include all the older ones
    (each named definition unchanged); descriptions and titles may change."""
    old_prop, new_prop = old["properties"][field], new["properties"][field]
    if old_prop == new_prop:
        return True
    words = {"description", "title"}
    old_rest = {k: v for k, v in old_prop.items() if k not in words | {"anyOf"}}
    new_rest = {k: v for k, v in new_prop.items() if k not in words | {"anyOf"}}
    old_members, new_members = old_prop.get("anyOf", [old_prop]), new_prop.get("anyOf", [])
    refs = [m["$ref"].rsplit("/", 1)[-1] for m in old_members if "$ref" in m]
    return (
        old_rest == new_rest
        and all(member in new_members for member in old_members)
        and all(old["$defs"][name] == new["$defs"][name] for name in refs)
    )


def test_a_widened_union_is_accepted_and_a_changed_member_is_not() -> None:
    old = {
        "properties": {"e": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]}},
        "$defs": {"A": {"x": 1}},
    }
    wider = {"properties": {"e": {"anyOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}, {"type": "null"}]}}}
    assert accepts_all_of({**wider, "$defs": {"A": {"x": 1}, "B": {}}}, old, "e")
    assert not accepts_all_of({**wider, "$defs": {"A": {"x": 2}, "B": {}}}, old, "e")
    narrower = {"properties": {"e": {"anyOf": [{"$ref": "#/$defs/A"}]}}, "$defs": {"A": {"x": 1}}}
    assert not accepts_all_of(narrower, old, "e")


def test_a_v2_promotion_with_shadow_evidence_still_parses_as_the_newest() -> None:
    older = example_of(ModelPromotedV2)
    _, value, headers = encode(older)
    newest = decode(value, headers, expected=ModelPromoted)
    assert type(newest) is ModelPromoted and newest.schema_version == 3
    assert newest.evidence == older.evidence and isinstance(newest.evidence, ShadowEvidence)
    bare = decode(encode(example_of(ModelPromotedV1))[1], expected=ModelPromoted)
    assert bare.schema_version == 3 and bare.evidence is None


def test_holdout_evidence_round_trips_as_its_own_kind() -> None:
    rejected = example_of(ModelRejected)
    assert isinstance(rejected.evidence, HoldoutEvidence)
    _, value, headers = encode(rejected)
    assert decode(value, headers, expected=ModelRejected) == rejected


@pytest.mark.parametrize("name", sorted(VERSIONED))
def test_every_older_version_upgrades(name: str) -> None:
    for cls in VERSIONED[name][:-1]:
        assert type(upgrade_to_latest(example_of(cls))) is LATEST[name]
