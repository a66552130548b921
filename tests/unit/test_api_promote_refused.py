"""A version that fails verification is a 409 from promote and rollback, and the champion stays."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from modelstore.exceptions import PromotionRefusedError
from stack.settings import Settings
from tests.api_fakes import FakeModels, fake_build

KEY = "unit-test-key"


class TamperedModels(FakeModels):
    """Version 2's artifact fails verification, as modelstore.lifecycle.Registry reports it."""

    def promote(self, version: str, reason: str) -> dict[str, Any]:
        if version == "2":
            raise PromotionRefusedError("transfer-fee version 2 refused (signature); nothing was moved")
        return super().promote(version, reason)

    def rollback(self, version: str, reason: str) -> dict[str, Any]:
        return self.promote(version, reason)


def test_a_refused_version_is_409_with_the_reason_and_nothing_changes(tmp_path: Any) -> None:
    settings = Settings(_env_file=None, state_dir=tmp_path, api_key=KEY)  # type: ignore[call-arg,arg-type]
    models = TamperedModels(champion="1")
    with TestClient(create_app(settings, fake_build(models=models))) as client:
        for action in ("promote", "rollback"):
            answer = client.post(f"/v1/models/2/{action}", headers={"X-API-Key": KEY})
            assert answer.status_code == 409, answer.text
            assert "refused" in answer.json()["detail"] and "nothing was moved" in answer.json()["detail"]
    assert models.champion == "1" and models.changes == []
