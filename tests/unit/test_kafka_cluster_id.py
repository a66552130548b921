"""Cluster ids can never be read as an option by kafka-storage (1 in 64 began with '-')."""

from __future__ import annotations

import base64
import uuid

import pytest

from devstack import kafka_broker


def test_an_id_that_would_start_with_a_dash_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    dash = uuid.UUID(bytes=b"\xf8" + bytes(15))  # 0b111110.. is '-' in URL-safe base64
    fine = uuid.UUID(bytes=b"\x10" * 16)
    draws = iter([dash, dash, fine])
    monkeypatch.setattr(kafka_broker.uuid, "uuid4", lambda: next(draws))
    assert base64.urlsafe_b64encode(dash.bytes).decode().startswith("-")
    assert kafka_broker._cluster_id() == base64.urlsafe_b64encode(fine.bytes).decode().rstrip("=")


def test_ids_are_16_bytes_and_never_start_with_a_dash() -> None:
    ids = [kafka_broker._cluster_id() for _ in range(20_000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    assert len(set(ids)) == len(ids)
