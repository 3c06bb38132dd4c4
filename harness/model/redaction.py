"""The one rule for credentials inside URLs: ``scheme://userinfo@host`` keeps its scheme and
host, and its userinfo becomes ``***``. Used by run.redact's Redactor for every output and
by the matrix loader for the input its error messages quote.

The rule, as a regular expression, is ``[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\\s]+@``, matched
leftmost and without overlap. Matched by ``re`` it costs quadratic time on a long unbroken
token (every start position rescans the token for ``://``), and every step's output goes
through it; so ``userinfo_spans`` finds the same matches in linear time: it reads each
``://userinfo@`` forwards once and the scheme backwards from it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import NamedTuple

MASK = "***"
_SCHEME_CHARS = string.ascii_letters + string.digits + "+.-"
_NOT_A_SCHEME_START = string.digits + "+.-"
# "://" then userinfo then "@". Possessive: the userinfo characters are read once and never
# backtracked into, and none of them can be the start of another "://".
_AFTER_SCHEME = re.compile(r"://(?P<userinfo>[^/@\s]++)@")


class UserinfoSpan(NamedTuple):
    start: int  # where the scheme starts
    end: int  # just after the "@"
    scheme: str  # "https://"
    userinfo: str  # "user:password"


def userinfo_spans(text: str) -> Iterator[UserinfoSpan]:
    """Every ``scheme://userinfo@`` in ``text``, left to right, in linear time."""
    floor = 0  # no scheme starts before this: the end of the last candidate
    for candidate in _AFTER_SCHEME.finditer(text):
        # The scheme: the run of scheme characters just before "://", from its first
        # letter. Runs of different candidates do not overlap, so each is read once.
        run = text[floor : candidate.start()]
        run = run[len(run.rstrip(_SCHEME_CHARS)) :].lstrip(_NOT_A_SCHEME_START)
        floor = candidate.end()
        if run:
            start = candidate.start() - len(run)
            scheme = text[start : candidate.start() + 3]
            yield UserinfoSpan(start, candidate.end(), scheme, candidate["userinfo"])


def mask_userinfo(text: str) -> str:
    parts: list[str] = []
    done = 0
    for span in userinfo_spans(text):
        parts += [text[done : span.start], span.scheme, MASK, "@"]
        done = span.end
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)
