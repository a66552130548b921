""".env.example documents every setting, and nothing else, with values that validate."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from stack.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
PREFIX = "MLOPS_FC_"
ACTIVE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
# A setting left at a computed or empty default is listed commented out: "# MLOPS_FC_X=...".
COMMENTED = re.compile(r"^#\s*([A-Z][A-Z0-9_]*)=")


def _lines() -> list[str]:
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def _active() -> dict[str, str]:
    return {m.group(1): m.group(2) for line in _lines() if (m := ACTIVE.match(line))}


def _commented() -> set[str]:
    return {m.group(1) for line in _lines() if (m := COMMENTED.match(line)) and m.group(1).startswith(PREFIX)}


def _field(variable: str) -> str:
    return variable.removeprefix(PREFIX).lower()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No MLOPS_FC_* variable from the shell running the tests."""
    for variable in [name for name in os.environ if name.startswith(PREFIX)]:
        monkeypatch.delenv(variable)
    return monkeypatch


def test_every_setting_is_listed() -> None:
    listed = set(_active()) | _commented()
    missing = {f"{PREFIX}{name.upper()}" for name in Settings.model_fields} - listed
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_every_variable_is_a_real_setting() -> None:
    for variable in set(_active()) | _commented():
        assert variable.startswith(PREFIX), variable
        assert _field(variable) in Settings.model_fields, f"{variable} is not a field of Settings"


def test_each_variable_is_listed_once() -> None:
    names = [m.group(1) for line in _lines() if (m := ACTIVE.match(line) or COMMENTED.match(line))]
    assert len(names) == len(set(names)), names


def test_each_variable_has_an_explanation_above_it() -> None:
    lines = _lines()
    for index, line in enumerate(lines):
        if ACTIVE.match(line) or COMMENTED.match(line):
            above = lines[index - 1] if index else ""
            assert above.startswith("#") and not COMMENTED.match(above), f"explain {line!r} on the line above"


def test_active_values_load_into_settings(clean_env: pytest.MonkeyPatch) -> None:
    for variable, value in _active().items():
        clean_env.setenv(variable, value)

    loaded = Settings(_env_file=None)  # type: ignore[call-arg]
    assert loaded.environment == "development"


def test_active_values_are_the_defaults(clean_env: pytest.MonkeyPatch) -> None:
    # The file documents the defaults: it must not drift away from stack/settings.py.
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    for variable, value in _active().items():
        clean_env.setenv(variable, value)
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]

    for variable in _active():
        name = _field(variable)
        expected, actual = getattr(defaults, name), getattr(loaded, name)
        if isinstance(expected, SecretStr):
            expected, actual = expected.get_secret_value(), actual.get_secret_value()
        assert actual == expected, f"{variable}: .env.example says {actual!r}, the default is {expected!r}"


def test_settings_left_commented_have_no_writable_default() -> None:
    # Only settings whose default is None or computed from the project root stay commented out.
    for variable in _commented():
        default = Settings.model_fields[_field(variable)].default
        assert default in (None, ()) or _field(variable) == "state_dir", variable
