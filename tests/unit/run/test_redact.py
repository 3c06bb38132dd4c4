"""Secrets redacted by value (issue 13, item 3): every URL's credentials wherever they are in
the matrix or the environment, and every variable the matrix marks secret."""

from __future__ import annotations

import base64

import pytest

from harness.model.matrix import RegistryAuth, Settings
from harness.pipeline.steps import run_redactor
from harness.run.redact import MASK, Redactor, registry_secrets

TOKEN = "tok-9c1e7fA"


def test_credentials_anywhere_in_the_matrix_are_secrets() -> None:
    spec = {
        "depsets": {
            "d": {
                "pip": [f"pkg @ https://me:{TOKEN}-req@host/x.whl"],
                "pip_args": ["--extra-index-url", f"https://me:{TOKEN}-args@host/simple"],
            }
        },
        "bases": {"b": {"dockerfile": {"args": {"URL": f"https://{TOKEN}-build@git/x"}}}},
    }
    redactor = Redactor.for_inputs(spec, {})
    for suffix in ("-req", "-args", "-build"):
        # ...masked even where no URL surrounds it (pip echoing the bare password)
        assert redactor.text(f"password {TOKEN}{suffix} rejected") == f"password {MASK} rejected"


def test_environment_urls_secret_names_and_marked_variables() -> None:
    env = {
        "PIP_INDEX_URL": f"https://user:{TOKEN}-env@h/simple",
        "DEPLOY_API_TOKEN": f"{TOKEN}-named",
        "PLAIN": f"{TOKEN}-marked",
        "VISIBLE": "harmless-value",
    }
    redactor = Redactor.for_inputs({}, env, secret_names=["PLAIN", "UNSET"])
    text = " ".join(f"{TOKEN}{s}" for s in ("-env", "-named", "-marked")) + " harmless-value"
    assert redactor.text(text) == f"{MASK} {MASK} {MASK} harmless-value"


def test_the_user_name_stays_and_encoded_forms_are_masked() -> None:
    redactor = Redactor.for_inputs([f"https://alice:{TOKEN}%21@h/simple"], {})
    assert redactor.text(f"alice used {TOKEN}!") == f"alice used {MASK}"
    header = base64.b64encode(f"alice:{TOKEN}!".encode()).decode()
    assert TOKEN not in redactor.text(f"Authorization: Basic {header}")
    assert header not in redactor.text(f"Authorization: Basic {header}")


def test_any_url_userinfo_is_masked_even_unknown_and_nested() -> None:
    redactor = Redactor()
    record = {"steps": [{"log_tail": "GET https://x:y@elsewhere/simple 401"}], "n": 3}
    assert redactor.deep(record) == {
        "steps": [{"log_tail": f"GET https://{MASK}@elsewhere/simple 401"}],
        "n": 3,
    }


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
