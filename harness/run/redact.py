"""Keep secrets given to a run out of every output, by value.

What is secret: the userinfo of every URL anywhere in the matrix (index URLs, pip
requirements such as ``pkg @ https://user:token@host/x.whl``, pip_args, Dockerfile build
args, env values) or in the host's environment, the value of every environment variable
whose name looks secret (TOKEN, PASSWORD, ...), and the value of every variable the matrix
names in ``settings.secrets``. One Redactor per run masks them in every writer: results,
cell files, logs, prepare.json, report, summary, JUnit, history, console, reproducers.
Any ``scheme://userinfo@`` left in a text is masked as well, secret or not.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from harness.model.redaction import MASK, mask_userinfo, userinfo_spans

__all__ = ["MASK", "Redactor"]

from harness.model.matrix import Settings

_SECRET_ENV = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|AUTH)", re.IGNORECASE)
_SHORTEST = 4  # shorter values would mask ordinary words all over the outputs


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= _SHORTEST}, key=len, reverse=True)

    @classmethod
    def for_settings(cls, urls: Iterable[str | None], env: Mapping[str, str]) -> Redactor:
        return cls.for_inputs(list(urls), env)

    @classmethod
    def for_inputs(
        cls, inputs: Any, env: Mapping[str, str], secret_names: Iterable[str] = ()
    ) -> Redactor:
        """``inputs``: anything the user gave the run (the matrix spec as plain data); every
        string in it is searched for URLs with credentials. ``env``: the environment the
        steps see (the host's and the matrix's)."""
        found = [part for text in _strings(inputs) for part in _userinfo_secrets(text)]
        found += [part for value in env.values() for part in _userinfo_secrets(value)]
        found += [value for key, value in env.items() if _SECRET_ENV.search(key)]
        found += [env[name] for name in secret_names if env.get(name)]
        return cls(found)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        return mask_userinfo(value)

    def deep(self, value: Any) -> Any:
        """Redact every string inside nested dicts and lists."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.deep(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep(v) for v in value]
        return value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _strings(item)


def _userinfo_secrets(text: str | None) -> list[str]:
    """user:password → the password (the user name is often common) and the pair, also
    percent-decoded and as the Basic auth header value; a lone user part is the token
    itself (https://TOKEN@host/simple)."""
    found: list[str] = []
    for span in userinfo_spans(text or ""):
        userinfo = span.userinfo
        user, has_password, password = userinfo.partition(":")
        for pair in {userinfo, unquote(userinfo)}:
            found += [pair, base64.b64encode(pair.encode()).decode()]
        found += [password, unquote(password)] if has_password else [user, unquote(user)]
    return found


def registry_secrets(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """The passwords (tokens) that settings.registry_auth reads from the environment: their
    variable names are the user's choice, so the name rule above may not catch them."""
    values = (environ.get(auth.password_env) for auth in settings.registry_auth.values())
    return [value for value in values if value]
