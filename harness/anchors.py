"""HTML anchors shared by the report, the diff, the comparison and the ADR.

One function so that a link written by one document (``report.html#cell-…``)
always lands on the element the HTML report gave that id.
"""

from __future__ import annotations

import re

from harness.ids import docker_safe

_NOT_ANCHOR_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def cell_anchor(cell_id: str) -> str:
    """``"py311-slim×ffmpeg"`` → ``"cell-py311-slim_x_ffmpeg"``: the cross is spelt as in
    container names, so ``a-b×c`` and ``a×b-c`` keep different anchors."""
    return "cell-" + docker_safe(cell_id).replace(".", "-")


def base_anchor(base: str) -> str:
    """The report's id for a base's section (base names are already anchor-safe)."""
    return "base-" + _NOT_ANCHOR_SAFE.sub("-", base)
