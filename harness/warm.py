"""Warm mode: quick iteration, never a measurement an ADR should cite.

pip's HTTP cache stays empty behind proxies that strip caching headers, so warm mode
fills a wheelhouse of its own, once per base image and dependency set: ``pip wheel``
in a container of that base (so the wheels fit its Python and libc), kept under
``reports/wheelhouse/``. Warm cells install from it with ``--no-index`` and are marked
``"warm": true`` everywhere. System packages are still fetched by apt/apk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import docker

from harness.cell import (
    VENV,
    WARM_MOUNT,
    WHEELHOUSE_MOUNT,
    ca_bundle_path,
    container_environment,
)
from harness.container import CellContainer, ContainerSpec, Mount
from harness.engine import LABEL_CELL
from harness.ids import docker_safe
from harness.matrix import Cell, DepsetSpec, Matrix

COMPLETE = ".complete"


def wheelhouse_dir(root: Path, base: dict[str, Any], depset: DepsetSpec) -> Path:
    recipe = json.dumps([depset.pip, depset.pip_args], sort_keys=True).encode()
    image = str(base["image_id"]).removeprefix("sha256:")[:12]
    return root / f"{docker_safe(base['name'])}-{image}" / hashlib.sha256(recipe).hexdigest()[:16]


def fill_all(
    client: docker.DockerClient,
    matrix: Matrix,
    bases: dict[str, dict[str, Any]],
    cells: Iterable[Cell],
    root: Path,
    labels: dict[str, str],
    log: Callable[[str], None],
) -> dict[str, str]:
    """Fill (or reuse) one wheelhouse per base × depset; returns cell id → folder."""
    chosen: dict[str, str] = {}
    for cell in cells:
        base, depset = bases.get(cell.base), matrix.spec.depsets[cell.depset]
        if not base or base["status"] != "available" or not depset.pip:
            continue
        folder = wheelhouse_dir(root, base, depset)
        if not (folder / COMPLETE).exists():
            log(f"[warm] filling {folder} for {cell.id}")
            _fill(client, matrix, base, depset, folder, {**labels, LABEL_CELL: f"warm:{cell.id}"})
        if (folder / COMPLETE).exists():
            chosen[cell.id] = str(folder)
    return chosen


def _fill(
    client: docker.DockerClient,
    matrix: Matrix,
    base: dict[str, Any],
    depset: DepsetSpec,
    folder: Path,
    labels: dict[str, str],
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    settings = matrix.settings
    mounts = [Mount(str(folder), WARM_MOUNT, read_only=False)]
    ca = ca_bundle_path(settings, matrix.path.parent)
    if ca:
        mounts.append(Mount(str(ca), "/harness/ca.crt"))
    houses = [matrix.resolve_path(p) for p in settings.wheelhouses]
    houses = [p for p in houses if p.is_dir()]
    mounts += [Mount(str(p), f"{WHEELHOUSE_MOUNT}/{i}") for i, p in enumerate(houses)]
    spec = ContainerSpec(
        image=base["image_id"],
        name=docker_safe(f"harness-warm-{folder.parent.name}-{folder.name}"),
        labels=labels,
        mounts=mounts,
        environment=container_environment(settings, matrix.path.parent),
        memory=settings.memory,
        cpus=settings.cpus,
        network=settings.install_network,
    )
    links = " ".join(f"--find-links {WHEELHOUSE_MOUNT}/{i}" for i in range(len(houses)))
    requirements = " ".join(f"'{r}'" for r in depset.pip)
    script = (
        f"{base.get('python_command') or 'python3'} -m venv {VENV} && "
        f"{VENV}/bin/python -m pip wheel --progress-bar off -w {WARM_MOUNT} {links} "
        f"{' '.join(depset.pip_args)} {requirements}"
    )
    with CellContainer(client, spec) as box:
        outcome = box.run_shell(script, timeout=settings.timeout)
    if outcome.exit_code == 0:
        (folder / COMPLETE).write_text(script + "\n", encoding="utf-8")
