"""Registry passwords named by registry_auth never reach an output."""

from __future__ import annotations

import pytest

from harness.model.matrix import RegistryAuth, Settings
from harness.run.plugin import run_redactor
from harness.run.redact import registry_secrets


def test_registry_auth_passwords_are_masked_whatever_their_variable_is_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = {"reg.corp": RegistryAuth(username_env="REG_USER", password_env="REG_PW")}
    settings = Settings(registry_auth=auth)
    monkeypatch.setenv("REG_USER", "builder")
    monkeypatch.setenv("REG_PW", "s3cr3t-value")
    assert registry_secrets(settings, {"REG_PW": "s3cr3t-value"}) == ["s3cr3t-value"]
    masked = run_redactor(settings).deep({"reason": "login builder:s3cr3t-value failed"})
    assert masked == {"reason": "login builder:*** failed"}
