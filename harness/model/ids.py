"""Stable identifiers: one cell id, ``base×depset``, used everywhere.

Docker names allow only ``[a-zA-Z0-9][a-zA-Z0-9_.-]*``, so container names spell
the cross as ``_x_``.
"""

from __future__ import annotations

import os
import re
import secrets
import time

CROSS = "×"
_DOCKER_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]+")


def cell_id(base: str, depset: str) -> str:
    return f"{base}{CROSS}{depset}"


def split_cell_id(value: str) -> tuple[str, str]:
    base, sep, depset = value.partition(CROSS)
    if not sep:
        raise ValueError(f"not a cell id (base{CROSS}depset): {value!r}")
    return base, depset


def docker_safe(text: str) -> str:
    safe = _DOCKER_UNSAFE.sub("-", text.replace(CROSS, "_x_")).strip("-.")
    return safe if safe[:1].isalnum() else f"h{safe}"


def container_name(run_id: str, cell: str, repeat: int) -> str:
    return docker_safe(f"harness-{run_id}-{cell}-r{repeat}")[:200]


def result_file_name(cell: str, repeat: int) -> str:
    return f"{docker_safe(cell)}.r{repeat}.json"


SBOM_DIR = "sbom"
SBOM_INDEX = f"{SBOM_DIR}/index.json"


def cell_sbom_path(cell: str, repeat: int) -> str:
    """A cell's SBOM, relative to the run folder: the result file's stem + ``.cdx.json``."""
    return f"{SBOM_DIR}/{result_file_name(cell, repeat).removesuffix('.json')}.cdx.json"


def base_sbom_path(base: str) -> str:
    """A base's SBOM (its OS packages), relative to the run folder."""
    return f"{SBOM_DIR}/{docker_safe(base)}.cdx.json"


def new_run_id() -> str:
    """Sortable by time, unique across concurrent runs on one host."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{secrets.token_hex(3)}"


def runner_token() -> str:
    """Identifies this runner process, so a sweep can tell live runs from dead ones."""
    return f"{os.uname().nodename}:{os.getpid()}"


# HTML anchors: one function each, so a link written by one document (report.html#cell-…)
# always lands on the element the HTML report gave that id.
_NOT_ANCHOR_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def cell_anchor(cell_id: str) -> str:
    """``"py311-slim×ffmpeg"`` → ``"cell-py311-slim_x_ffmpeg"``: the cross is spelt as in
    container names, so ``a-b×c`` and ``a×b-c`` keep different anchors."""
    return "cell-" + docker_safe(cell_id).replace(".", "-")


def base_anchor(base: str) -> str:
    """The report's id for a base's section (base names are already anchor-safe)."""
    return "base-" + _NOT_ANCHOR_SAFE.sub("-", base)


def depset_anchor(depset: str) -> str:
    """The report's id for a depset's section."""
    return "depset-" + _NOT_ANCHOR_SAFE.sub("-", depset)


def cells_keyword(bases: list[str] | tuple[str, ...], depsets: list[str] | tuple[str, ...]) -> str:
    """The ``-k`` expression that selects exactly these bases' cells of these depsets."""
    keyword = "(" + " or ".join(bases) + ")"
    return keyword + (" and (" + " or ".join(depsets) + ")" if depsets else "")
