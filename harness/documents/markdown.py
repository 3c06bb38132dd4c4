"""Markdown made safe: text from containers and matrices shown inert in every .md document."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#])")


def md_escape(text: object) -> str:
    """Text from containers or the matrix made inert in Markdown: one line, no markup,
    no raw HTML (``<`` would open a tag in GitHub's renderer)."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


_CODE_SPAN = re.compile(r"`([^`]+)`")


def md_escape_keeping_code(text: object) -> str:
    """``md_escape``, except that a span our own sentences quote in backticks (a command to
    run) stays a code span; an unpaired backtick is escaped as any other."""
    flat = " ".join(str(text).split())
    parts, last = [], 0
    for match in _CODE_SPAN.finditer(flat):
        parts += [_MD_SPECIAL.sub(r"\\\1", flat[last : match.start()]), md_code(match.group(1))]
        last = match.end()
    return "".join([*parts, _MD_SPECIAL.sub(r"\\\1", flat[last:])])


def md_code(text: object) -> str:
    """Inline code span that survives backticks inside the text."""
    flat = " ".join(str(text).split())
    fence = "`" * (max((len(m) for m in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Rows must already be escaped (they may hold links)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


_URL = re.compile(r"^https?://[^\s()<>\[\]]+$")


def safe_url(value: object) -> str | None:
    """A link target from the matrix (an expected failure's link) if it is a plain
    http(s) URL that cannot break out of a Markdown link; else None (shown as text)."""
    return value if isinstance(value, str) and _URL.match(value) else None
