"""Typed settings from the environment: what a function cannot work without is a clear error
that names the environment variable to set."""

from __future__ import annotations

import pytest

from toggl_connection.core import settings
from toggl_connection.core.errors import ConfigurationError


@pytest.mark.parametrize(
    ("setting", "variable"),
    [
        ("records_table_name", "IDEMPOTENCY_TABLE_NAME"),
        ("event_bus_name", "EVENT_BUS_NAME"),
        ("webhook_secret_id", "WEBHOOK_SECRET_ID"),
    ],
)
def test_a_missing_setting_names_the_variable_to_set(
    setting: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError) as raised:
        settings.load().require(setting)
    assert raised.value.detail == f"{variable} is not set"


def test_the_records_table_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "stack-records")
    assert settings.load().require("records_table_name") == "stack-records"
