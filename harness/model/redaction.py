"""The one rule for credentials inside URLs: ``scheme://userinfo@host`` keeps its scheme and
host, and its userinfo becomes ``***``. Used by run.redact's Redactor for every output and
by the matrix loader for the input its error messages quote."""

from __future__ import annotations

import re

MASK = "***"
URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


def mask_userinfo(text: str) -> str:
    return URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
