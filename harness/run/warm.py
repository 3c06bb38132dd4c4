"""Warm mode: quick iteration, never a measurement an ADR should cite.

pip's HTTP cache stays empty behind proxies that strip caching headers, so warm mode
fills a wheelhouse of its own, once per base image and dependency set: ``pip wheel``
in a container of that base (so the wheels fit its Python and libc), kept under
``reports/wheelhouse/``. Warm cells install from it with ``--no-index`` and are marked
``"warm": true`` everywhere; pip skips byte-compiling there (the import probe's
interpreter compiles what it imports) and the import probe times each module once.
System packages cannot be installed from a read-only cache by apt, so warm mode
snapshots them instead: the base with the depset's system packages installed and the
empty venv made, committed once as
``harness-warm/<base>:<hash>`` (depsets without system packages share one per base);
warm cells start from it and their system-packages and venv steps say so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker

from harness.engine.client import LABEL_CELL
from harness.engine.container import CellContainer, ContainerSpec, Mount
from harness.model.ids import docker_safe
from harness.model.matrix import Cell, DepsetSpec, Matrix
from harness.run.cell import (
    DETECT_PM,
    VENV,
    WARM_MOUNT,
    WHEELHOUSE_MOUNT,
    ca_bundle_path,
    container_environment,
    package_family,
    system_install_command,
)
from harness.store.rundir import write_atomic

COMPLETE = ".complete"


@dataclass(frozen=True)
class WarmBase:
    """What warming reads of a resolved base (engine.bases.ResolvedBase)."""

    name: str
    image_id: str
    python_command: str

    @classmethod
    def of(cls, base: Mapping[str, object]) -> WarmBase | None:
        """The base when it is available (None: nothing to warm on)."""
        if base["status"] != "available":
            return None
        python = base.get("python_command") or "python3"
        return cls(str(base["name"]), str(base["image_id"]), str(python))


def wheelhouse_dir(root: Path, base: WarmBase, depset: DepsetSpec) -> Path:
    recipe = json.dumps([depset.pip, depset.pip_args], sort_keys=True).encode()
    image = base.image_id.removeprefix("sha256:")[:12]
    return root / f"{docker_safe(base.name)}-{image}" / hashlib.sha256(recipe).hexdigest()[:16]


def fill_all(
    client: docker.DockerClient,
    matrix: Matrix,
    bases: Mapping[str, Mapping[str, object]],
    cells: Iterable[Cell],
    root: Path,
    labels: dict[str, str],
    log: Callable[[str], None],
) -> dict[str, dict[str, str]]:
    """Fill (or reuse) the wheelhouse and system snapshot of every base × depset.

    Returns cell id → {"wheelhouse": folder, "image": snapshot id}, each where there is one.
    """
    chosen: dict[str, dict[str, str]] = {}
    for cell in cells:
        found, depset = bases.get(cell.base), matrix.spec.depsets[cell.depset]
        base = WarmBase.of(found) if found else None
        if base is None:
            continue
        cell_labels = {**labels, LABEL_CELL: f"warm:{cell.id}"}
        entry = chosen.setdefault(cell.id, {})
        if depset.pip:
            folder = wheelhouse_dir(root, base, depset)
            if not (folder / COMPLETE).exists():
                log(f"[warm] filling {folder} for {cell.id}")
                _fill(client, matrix, base, depset, folder, cell_labels)
            if (folder / COMPLETE).exists():
                entry["wheelhouse"] = str(folder)
        image = _snapshot(client, matrix, base, depset, cell_labels, log)
        if image:
            entry["image"] = image
    return chosen


def _snapshot(
    client: docker.DockerClient,
    matrix: Matrix,
    base: WarmBase,
    depset: DepsetSpec,
    labels: dict[str, str],
    log: Callable[[str], None],
) -> str | None:
    python = base.python_command
    recipe = json.dumps([base.image_id, depset.system, python, VENV], sort_keys=True).encode()
    repository, tag = (
        f"harness-warm/{docker_safe(base.name)}",
        hashlib.sha256(recipe).hexdigest()[:16],
    )
    try:
        return str(client.images.get(f"{repository}:{tag}").id)
    except docker.errors.ImageNotFound:
        pass
    log(f"[warm] snapshot of {base.name} with {depset.system or 'no system packages'} + venv")
    spec = ContainerSpec(
        image=base.image_id,
        name=docker_safe(f"harness-warm-{base.name}-{tag}"),
        labels=labels,
        environment=container_environment(matrix.settings, matrix.path.parent),
        memory=matrix.settings.memory,
        cpus=matrix.settings.cpus,
        network=matrix.settings.install_network,
    )
    with CellContainer(client, spec) as box:
        if depset.system and not _install_system(box, depset, matrix.settings.timeouts.install):
            return None  # the cell installs (and reports the failure, or `unsupported`) itself
        if (
            box.run_shell(f"{python} -m venv {VENV}", matrix.settings.timeouts.install).exit_code
            != 0
        ):
            return None
        assert box.container is not None
        image = box.container.commit(repository=repository, tag=tag, conf={"Labels": labels})
    return str(image.id)


def _install_system(box: CellContainer, depset: DepsetSpec, timeout: float) -> bool:
    detected = box.run_shell(DETECT_PM, timeout=60).stdout.split()
    family = package_family(detected[-1] if detected else None)
    packages = depset.system.get(family) if family else None  # type: ignore[call-overload]
    if not packages:
        return False
    command = system_install_command(family, packages)  # type: ignore[arg-type]
    return box.run_shell(command, timeout).exit_code == 0


def _fill(
    client: docker.DockerClient,
    matrix: Matrix,
    base: WarmBase,
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
        image=base.image_id,
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
        f"{base.python_command} -m venv {VENV} && "
        f"{VENV}/bin/python -m pip wheel --progress-bar off -w {WARM_MOUNT} {links} "
        f"{' '.join(depset.pip_args)} {requirements}"
    )
    with CellContainer(client, spec) as box:
        outcome = box.run_shell(script, timeout=settings.timeouts.install)
    if outcome.exit_code == 0:
        write_atomic(folder / COMPLETE, script + "\n")
