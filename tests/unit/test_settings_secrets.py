"""Production refuses weak secrets and a Redis without a password; other modes take anything."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from stack.secret_checks import weakness
from stack.settings import Settings

STRONG = "x7Hq2mN9vLp4Rt8Ws3Kd"


def production(**changes: Any) -> Settings:
    values = {"model_signing_key": STRONG, "api_key": STRONG[::-1], "redis_password": STRONG + "Z", **changes}
    return Settings(_env_file=None, environment="production", **values)  # type: ignore[call-arg,arg-type]


def test_strong_secrets_pass() -> None:
    assert production().environment == "production"


@pytest.mark.parametrize("field", ["model_signing_key", "api_key", "redis_password"])
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("x", "shorter than 16"),
        ("CHANGETHIS", "shorter than 16"),
        (" dev-only-change-me ", "whitespace"),
        ("dev-only-change-me", "placeholder"),
        ("PLEASE_CHANGE_ME_NOW_123", "placeholder"),
        ("aaaaaaaaaaaaaaaaaaaa", "distinct"),
        (f"{STRONG}\n", "whitespace"),
    ],
)
def test_weak_secrets_are_refused_naming_the_variable(field: str, value: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        production(**{field: value})
    message = str(refused.value)
    assert f"MLOPS_FC_{field.upper()}" in message and reason in message
    if len(value.strip()) > 3:
        assert value.strip() not in message  # the secret itself is never echoed
    assert STRONG not in message


def test_production_needs_a_redis_password() -> None:
    with pytest.raises(ValidationError, match="MLOPS_FC_REDIS_PASSWORD is not set"):
        production(redis_password=None)


def test_development_keeps_its_placeholders() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.api_key.get_secret_value() == "dev-only-change-me" and settings.redis_password is None


def test_weakness_names_no_problem_for_a_generated_token() -> None:
    import secrets

    assert all(weakness(secrets.token_urlsafe(32)) is None for _ in range(200))
