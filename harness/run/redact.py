"""Keep secrets given to a run (index tokens, registry logins) out of every output."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from harness.model.matrix import Settings

MASK = "***"
_SECRET_ENV = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|AUTH)", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    @classmethod
    def for_settings(
        cls, urls: Iterable[str | None], env: dict[str, str], extra: Iterable[str] = ()
    ) -> Redactor:
        found: list[str] = list(extra)
        for url in urls:
            if url and (userinfo := urlsplit(url).netloc.rpartition("@")[0]):
                # user:password: the password is the secret, not the (often common) user name;
                # a lone user part is itself the token (https://TOKEN@host/simple).
                user, has_password, password = userinfo.partition(":")
                found += [userinfo, password if has_password else user]
        found += [value for key, value in env.items() if _SECRET_ENV.search(key)]
        return cls(found)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        return _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", value)

    def deep(self, value: Any) -> Any:
        """Redact every string inside nested dicts and lists."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        return value


def registry_secrets(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """The passwords (tokens) that settings.registry_auth reads from the environment: their
    variable names are the user's choice, so the name rule above may not catch them."""
    values = (environ.get(auth.password_env) for auth in settings.registry_auth.values())
    return [value for value in values if value]
