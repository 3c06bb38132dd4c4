"""Runtime cells: the image a multi-stage build ships (issue 27).

A base that names a ``builder`` is a runtime. Its cell installs the depset in a container
of the builder, exactly as a single-stage cell does, then does what a multi-stage
Dockerfile's ``COPY --from=build`` does: the builder's venv (or, when the runtime's Python
lives at another path and a copied venv would not start, the venv's site-packages with
``PYTHONPATH``) is copied into a fresh container of the runtime image, which is committed:
that is the final image, measured. The probes then run in a container of it, exec-form
(``[python, probe.py]``: a runtime may have no shell), with the runtime's own Python, as
the image's own user, with the network cut; ``read_only`` adds a read-only root and a
tmpfs on /tmp. Before anything is copied, builder and runtime must agree on what a copied
environment needs (``agreement_problem``, ``copy_form``); when they do not, the cell is
``unsupported`` with the reason.

Steps, in order: the builder's install steps (run.cell), ``runtime-facts`` (the venv's
interpreter path and what the builder holds besides the venv), ``runtime-copy`` (the copy
and the commit), then the probes in the runtime, and the team's tests (``_tests``: from a
copy of the project, the JUnit file and ``tests.artifacts`` read back with the runtime's
python, recorded by the same ``CellRun._record_tests`` as a single-stage cell's).
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import docker.errors
from pydantic import BaseModel, ConfigDict

from harness.engine.client import LABEL_CELL, LABEL_KEEP, LABEL_RUN, LABEL_RUNNER
from harness.engine.container import ENGINE_ERRORS, CellContainer, ContainerSpec, Mount
from harness.model.matrix import DepsetSpec
from harness.model.probe_output import CONTENTS_PROBE, ENV_PROBE, IMPORTS_PROBE
from harness.model.results import (
    BaseRecord,
    Capabilities,
    CellRecord,
    LeftBehind,
    Reproducer,
    RuntimeFacts,
)
from harness.run import imagesize, project
from harness.run.cell import (
    CA_MOUNT,
    EXTRA_PROBES_MOUNT,
    MODELS_MOUNT,
    PROBES_MOUNT,
    ROOT_USER,
    VENV,
    CellRun,
    ca_bundle_path,
    imports_probe_args,
    job_container_name,
)

if TYPE_CHECKING:
    from harness.run.cell import CellJob

VENV_FORM = "venv"
SITE_PACKAGES_FORM = "site-packages"
TMPFS = {"/tmp": "rw,nosuid,nodev,size=1g"}  # the tmpfs hardened runs give
# A console script whose module is named otherwise (every other runs as `python -m NAME`).
SCRIPT_MODULES = {"py.test": "pytest"}
# What a write to a read-only root prints (Python's OSError, libc's strerror, EROFS).
READ_ONLY_ERROR = re.compile(r"Read-only file system|\bEROFS\b|\[Errno 30\]")
FACTS_STEP = "runtime-facts"
COPY_STEP = "runtime-copy"
COPY_CHUNK = 1024 * 1024
# Kept alive with the runtime's own python: a runtime image may have no `sleep`.
KEEP_ALIVE = "import time\nwhile True: time.sleep(3600)"

# What the builder holds that a multi-stage build leaves behind, by kind. Measured in the
# builder and in the final image; what the final image holds too is not left behind.
LEFT_BEHIND_PATHS: dict[str, tuple[str, ...]] = {
    "build-tools": (
        "/usr/include",
        "/usr/lib/gcc",
        "/usr/libexec/gcc",
        "/usr/bin/gcc*",
        "/usr/bin/g++*",
        "/usr/bin/cc",
        "/usr/bin/c++",
        "/usr/bin/make",
        "/usr/bin/ld*",
        "/usr/bin/x86_64-linux-gnu-*",
        "/usr/bin/aarch64-linux-gnu-*",
    ),
    "pip": ("{base_pip}", "{base_pip}-*.dist-info", "/usr/local/bin/pip*", "/usr/bin/pip*"),
    "cache": ("/root/.cache", "{home}/.cache", "/tmp", "/var/cache/apt", "/var/lib/apt/lists"),
}

# Run with the image's python, as root, in the builder and in the final image: the path
# the venv's interpreter starts from, pyvenv.cfg, and the bytes of each left-behind path.
# Standard library only, no shell; prints one JSON line.
FACTS_SCRIPT = r"""
import glob, importlib.util, json, os, sys
venv, paths = sys.argv[1], json.loads(sys.argv[2])
def interpreter(path):
    for _ in range(40):
        if not os.path.islink(path):
            return path
        path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
        if not path.startswith(venv + "/"):
            return path
    return path
def size(path):
    if os.path.islink(path) or not os.path.exists(path):
        return 0
    if not os.path.isdir(path):
        return os.lstat(path).st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total
spec = importlib.util.find_spec("pip")
found = list(spec.submodule_search_locations or []) if spec else []
base_pip = found[0] if found else "/nonexistent/pip"
home = os.path.expanduser("~") if os.getuid() else "/root"
cfg = {}
try:
    with open(os.path.join(venv, "pyvenv.cfg")) as handle:
        for line in handle:
            key, _, value = line.partition("=")
            cfg[key.strip()] = value.strip()
except OSError:
    pass
site = sorted(glob.glob(os.path.join(venv, "lib", "python*", "site-packages")))
sizes = {}
for kind, patterns in paths.items():
    for pattern in patterns:
        for path in glob.glob(pattern.format(base_pip=base_pip, home=home)):
            if not path.startswith(venv):
                sizes[path] = [kind, size(path)]
print(json.dumps({"interpreter": interpreter(os.path.join(venv, "bin", "python")),
                  "pyvenv": cfg, "site_packages": site[0] if site else None, "sizes": sizes}))
"""


@dataclass(frozen=True)
class RuntimePlan:
    """What a runtime cell needs besides its job: its builder's base record and settings."""

    builder: str
    builder_base: BaseRecord
    copy: str = "auto"  # auto | venv | site-packages (model.matrix.RuntimeCopy)
    read_only: bool = False


# -- the rules (pure, unit-tested) ----------------------------------------------------------


def _minor(version: str | None) -> str | None:
    parts = (version or "").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def _version_tuple(text: str | None) -> tuple[int, ...]:
    digits = []
    for part in (text or "").split("."):
        if not part.isdigit():
            break
        digits.append(int(part))
    return tuple(digits)


def agreement_problem(
    builder_name: str,
    builder: Capabilities | None,
    runtime_name: str,
    runtime: Capabilities | None,
) -> str | None:
    """Why an environment installed in ``builder`` cannot run in ``runtime`` (from the
    capability probes of both), or None: Python there, same minor version, same libc
    family and none older than the builder's, same ABI flags."""
    if runtime is None or runtime.status != "passed" or not runtime.executable:
        why = (runtime.error if runtime is not None else None) or "no capability probe ran"
        return (
            f"runtime {runtime_name} has no Python harness can run ({why}): there is "
            "nothing to run the copied packages with"
        )
    if builder is None or builder.status != "passed":
        why = (builder.error if builder is not None else None) or "no capability probe ran"
        return f"builder {builder_name}: its Python could not be probed ({why})"
    if not builder.shell:
        return (
            f"builder {builder_name} has no shell: harness installs a depset with sh -c and "
            "pip, so a builder needs both (a runtime-only image cannot be a builder)"
        )
    built, runs = _minor(builder.python_version), _minor(runtime.python_version)
    if built != runs:
        return (
            f"builder has Python {builder.python_version}, runtime {runtime_name} has "
            f"Python {runtime.python_version}: packages installed for {built} do not "
            f"import on {runs} (compiled extensions are built per minor version)"
        )
    blibc, rlibc = builder.libc, runtime.libc
    bfamily, rfamily = blibc.family if blibc else None, rlibc.family if rlibc else None
    if bfamily != rfamily:
        return (
            f"builder uses {bfamily or 'an unknown libc'}, runtime {runtime_name} uses "
            f"{rfamily or 'an unknown libc'}: wheels built for one do not load on the other"
        )
    bversion, rversion = blibc.version if blibc else None, rlibc.version if rlibc else None
    if _version_tuple(rversion) < _version_tuple(bversion):
        return (
            f"runtime {runtime_name} has {rfamily} {rversion}, older than the builder's "
            f"{bversion}: extensions linked against the newer one may not load"
        )
    if (builder.abiflags or "") != (runtime.abiflags or ""):
        return (
            f"builder's ABI flags {builder.abiflags or '(none)'!r} differ from runtime "
            f"{runtime_name}'s {runtime.abiflags or '(none)'!r} (a free-threaded build and a "
            "default one do not share extension modules)"
        )
    return None


def runtime_pythons(runtime: Capabilities) -> list[str]:
    """Every interpreter path the runtime has (the capability probe's list and its own)."""
    paths = [p.path for p in runtime.pythons or [] if p.path]
    if runtime.executable and runtime.executable not in paths:
        paths.append(runtime.executable)
    return paths


def copy_form(mode: str, interpreter: str, runtime: Capabilities) -> tuple[str | None, str]:
    """(form, why): ``venv`` when the runtime has the interpreter path the builder's venv
    starts from, ``site-packages`` when it does not and ``mode`` allows it; (None, reason)
    when ``mode`` asks for a venv that cannot start there."""
    there = runtime_pythons(runtime)
    if mode == SITE_PACKAGES_FORM:
        return SITE_PACKAGES_FORM, "copy: site-packages (as asked)"
    if interpreter in there:
        return VENV_FORM, f"the runtime has {interpreter}, which the venv starts from"
    problem = (
        f"builder python at {interpreter}, runtime has {', '.join(there) or 'no python'}: "
        "a venv copied across does not start"
    )
    if mode == VENV_FORM:
        return None, problem + " (copy: site-packages copies the packages alone)"
    return SITE_PACKAGES_FORM, problem + ": copied its site-packages, with PYTHONPATH"


def predicted_interpreter(python_command: str, builder: Capabilities) -> str:
    """The path a venv made with ``python_command -m venv`` in the builder starts from: the
    command itself when it is a path, else the first of the builder's interpreters of that
    name in PATH order (/usr/local/bin before /usr/bin). Checked again after the install."""
    if python_command.startswith("/"):
        return python_command
    for found in builder.pythons or []:
        if found.path and found.path.rsplit("/", 1)[-1] == python_command:
            return found.path
    return builder.executable or python_command


def left_behind(
    builder_sizes: Mapping[str, tuple[str, int]], final_sizes: Mapping[str, tuple[str, int]]
) -> list[LeftBehind]:
    """What the builder holds and the final image does not (bytes beyond the final
    image's at the same path), largest first; empty paths are not listed."""
    items = []
    for path, (kind, size) in builder_sizes.items():
        kept = final_sizes.get(path, ("", 0))[1]
        if size - kept > 0:
            items.append(LeftBehind(kind=kind, path=path, bytes=size - kept))
    return sorted(items, key=lambda item: (-(item.bytes or 0), item.path or ""))


def rewrite_archive(
    source: IO[bytes], target: IO[bytes], old_top: str, new_top: str
) -> tuple[int, int]:
    """The engine's tar of ``old_top`` (its entries start with that folder's name), with
    every entry moved under ``new_top`` (no leading /); returns (the regular files' bytes,
    the entries)."""
    copied = entries = 0
    with (
        tarfile.open(fileobj=source, mode="r|") as tar_in,
        tarfile.open(fileobj=target, mode="w|", format=tarfile.PAX_FORMAT) as tar_out,
    ):
        for member in tar_in:
            member.name = _moved(member.name, old_top, new_top)
            if member.islnk():
                member.linkname = _moved(member.linkname, old_top, new_top)
            data = tar_in.extractfile(member) if member.isreg() else None
            tar_out.addfile(member, data)
            copied += member.size if member.isreg() else 0
            entries += 1
    return copied, entries


def _moved(name: str, old_top: str, new_top: str) -> str:
    rest = name[len(old_top) :].lstrip("/") if name.startswith(old_top) else name
    return f"{new_top}/{rest}" if rest else new_top


class _ChunkReader:
    """A file-like view of the engine's archive stream (an iterator of byte chunks)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


# -- the cell -------------------------------------------------------------------------------


def run_runtime_cell(run: CellRun, plan: RuntimePlan, started: float) -> CellRecord:
    """The runtime cell ``run.job`` names (run.cell calls it once the runtime base is
    available); its record, never an exception for a failing cell."""
    job = run.job
    builder_base = plan.builder_base
    # 1. The builder must be there, and agree with the runtime on what a copy needs.
    if builder_base.status != "available":
        return run._finish(
            "unavailable", f"builder {plan.builder} unavailable: {builder_base.reason}", started
        )
    builder_caps = builder_base.capabilities
    runtime_caps = job.base.capabilities
    facts = RuntimeFacts(
        builder=plan.builder,
        builder_image=builder_base.image,
        runtime_image=job.base.image,
        read_only=plan.read_only,
        runtime_image_bytes=job.base.size_bytes,
        user=(runtime_caps.user.name if runtime_caps and runtime_caps.user else None),
        uid=(runtime_caps.user.uid if runtime_caps and runtime_caps.user else None),
        shell=runtime_caps.shell if runtime_caps else None,
    )
    run.facts.runtime = facts
    problem = problem_before_install(job, plan, builder_caps, runtime_caps)
    if problem is not None:
        return _finish(run, facts, started, problem, "unsupported")
    assert runtime_caps is not None
    builder = CellRun(
        replace(job, base=builder_base, runtime=None),
        run.client,
        run.redactor,
        run.log,
        steps=run.steps,
        facts=run.facts,
        full_log=run.full_log,
    )
    final_image: str | None = None
    try:
        # 2. Install in the builder, as a single-stage cell does; read what the copy needs.
        spec = builder._container_spec()
        with CellContainer(run.client, replace(spec, name=f"{spec.name}-builder")) as box:
            builder._start_sizing(box)
            if not builder._install(box):
                return _finish(run, facts, started)
            run.facts.measures.update(imagesize.builder_installed(box))
            found = _facts_step(run, box, builder_base.python_command or "python3")
            if found is None:
                return _finish(run, facts, started)
            single_stage = imagesize.image_fields(builder_base, builder._measure_size(box), None)
            single = single_stage.get("image_size_bytes")
            form, why = copy_form(plan.copy, str(found.interpreter), runtime_caps)
            if form is None:
                return _finish(
                    run,
                    facts.model_copy(update={"single_stage_bytes": single}),
                    started,
                    why,
                    "unsupported",
                )
            run.log(f"{job.cell.id}: {why}")
            # 3. The copy, as COPY --from=build does, into the runtime image: the final image.
            final_image, copied, target, env = _copy(run, box, form, found)
        facts = facts.model_copy(
            update={
                "form": form,
                "copied_to": target,
                "environment": env or None,
                "copied_bytes": copied,
                "single_stage_bytes": single,
            }
        )
        final_bytes = run.facts.measures.get("image_size_bytes")
        facts = facts.model_copy(
            update={
                "final_image_bytes": final_bytes,
                "left_behind_bytes": _minus(single, final_bytes),
            }
        )
        run.facts.size_start_bytes = 0
        run.facts.size_added_bytes = _minus(final_bytes, job.base.size_bytes)
        # 4. The probes, in a container of the final image, as its own user, exec-form.
        python = f"{VENV}/bin/python" if form == VENV_FORM else str(runtime_caps.executable)
        facts = _probe_runtime(run, plan, final_image, python, env, found, facts)
    except docker.errors.ImageNotFound as err:
        return _finish(run, facts, started, f"image not found: {err}", "unavailable")
    except ENGINE_ERRORS as err:
        run.facts.engine_lost = True
        return _finish(
            run, facts, started, f"docker engine: {' '.join(str(err).split())[:400]}", "error"
        )
    finally:
        if final_image is not None and not job.keep:
            _remove_image(run, final_image)
    return _finish(run, facts, started)


def problem_before_install(
    job: CellJob,
    plan: RuntimePlan,
    builder: Capabilities | None,
    runtime: Capabilities | None,
) -> str | None:
    """Why this runtime cell cannot work, known before anything is installed: builder and
    runtime disagree, the depset needs system packages, or ``copy: venv`` asks for a venv
    whose interpreter path the runtime lacks."""
    problem = agreement_problem(plan.builder, builder, job.cell.base, runtime)
    if problem is not None or builder is None or runtime is None:
        return problem
    if job.depset.system:
        return (
            f"the depset needs system packages ({_system_text(job)}), which a copied Python "
            "environment does not carry: runtime cells measure pip-installed depsets only"
        )
    if plan.copy == VENV_FORM:
        python_command = plan.builder_base.python_command or "python3"
        interpreter = predicted_interpreter(python_command, builder)
        form, why = copy_form(plan.copy, interpreter, runtime)
        return why if form is None else None
    return None


def _finish(
    run: CellRun,
    facts: RuntimeFacts,
    started: float,
    reason: str | None = None,
    status: str | None = None,
) -> CellRecord:
    run.facts.runtime = facts
    record = run._finish(status or run._status(), reason or run.facts.reason, started)
    if record.reproducer is None or record.runtime is None:
        return record
    return record.model_copy(update={"reproducer": _reproducer(run, facts)})


def _system_text(job: CellJob) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in job.depset.system.items() if v)


def _minus(a: int | None, b: int | None) -> int | None:
    return a - b if a is not None and b is not None else None


class VenvFacts(BaseModel):
    """What FACTS_SCRIPT printed: the venv's interpreter (its symlinks followed), its
    site-packages, and {path: (kind, bytes)} of what the install left outside the venv."""

    model_config = ConfigDict(frozen=True)

    interpreter: str | None = None
    site_packages: str | None = None
    sizes: dict[str, tuple[str, int]] = {}


def _facts_step(run: CellRun, box: CellContainer, python: str) -> VenvFacts | None:
    """The venv's interpreter path, pyvenv.cfg, site-packages, and the bytes of every
    left-behind path, read in the builder (as root: caches live in /root)."""
    argv = [python, "-c", FACTS_SCRIPT, VENV, json.dumps(LEFT_BEHIND_PATHS)]
    return _json_step(run, box, FACTS_STEP, argv, ROOT_USER)


def _json_step(
    run: CellRun, box: CellContainer, name: str, argv: list[str], user: str
) -> VenvFacts | None:
    outcome = box.exec(argv, timeout=300, user=user)
    shown = shlex.join([argv[0], "-c", "<harness.run.runtime.FACTS_SCRIPT>", *argv[3:]])
    status = "passed" if outcome.exit_code == 0 else "error"
    found: VenvFacts | None = None
    try:
        if status == "passed":
            found = VenvFacts.model_validate_json(outcome.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):  # pydantic's ValidationError is a ValueError
        found = None
    if found is None:
        status = "error"
    run._record_step(
        name, "probe", status, outcome.seconds, outcome.exit_code, outcome.output,
        None if found else "no facts could be read", command=shown, user=user,
    )  # fmt: skip
    return found


def _copy(
    run: CellRun, box: CellContainer, form: str, found: VenvFacts
) -> tuple[str, int, str, dict[str, str]]:
    """The builder's venv (or its site-packages) into a created, never started container
    of the runtime image, committed: the final image's id, the bytes copied, where to,
    and the environment the final image needs. The final image's figures (total, and
    compressed from the tar as it passed through the host) go to the cell's measures."""
    job = run.job
    started = time.monotonic()
    if form == VENV_FORM:
        source, target, env = VENV, VENV, {}
    else:
        source = found.site_packages or f"{VENV}/lib/python3/site-packages"
        target, env = source, {"PYTHONPATH": source}
    assert box.container is not None
    chunks, _stat = box.container.get_archive(source, chunk_size=COPY_CHUNK)
    labels = _labels(job)
    with tempfile.TemporaryFile() as tar:
        reader = cast(IO[bytes], _ChunkReader(iter(chunks)))
        copied, entries = rewrite_archive(reader, tar, Path(source).name, target.lstrip("/"))
        layer = imagesize.copied_layer(tar, entries)  # leaves the file at its start
        staging = run.client.containers.create(
            str(job.base.image_id), name=f"{job_container_name(job)}-final", labels=labels
        )
        try:
            staging.put_archive("/", tar)
            conf: dict[str, dict[str, str] | list[str]] = {"Labels": labels}
            if env:
                conf["Env"] = [
                    *(_image_env(run, str(job.base.image_id))),
                    *(f"{k}={v}" for k, v in env.items()),
                ]
            image = str(run.client.api.commit(str(staging.id), conf=conf)["Id"])
        finally:
            staging.remove(force=True)
    measured = imagesize.after_copy(run.client, image, job.base, layer)
    run.facts.measures.update(measured)
    # The step is the copy's; measuring it is image_measure_seconds.
    seconds = time.monotonic() - started - measured.get("image_measure_seconds", 0.0)
    command = f"COPY --from=builder {source} {target}" + (
        "".join(f"\nENV {k}={v}" for k, v in env.items())
    )
    run._record_step(COPY_STEP, "install", "passed", seconds, 0, "", None, command=command)
    run._amend(bytes_added=copied)
    return image, copied, target, env


def _image_env(run: CellRun, image: str) -> list[str]:
    return list((run.client.images.get(image).attrs.get("Config") or {}).get("Env") or [])


def _labels(job: CellJob) -> dict[str, str]:
    return {
        LABEL_RUN: job.run_id,
        LABEL_CELL: job.cell.id,
        LABEL_RUNNER: job.runner,
        "harness.repeat": str(job.repeat),
        **({LABEL_KEEP: "1"} if job.keep else {}),
    }


def _remove_image(run: CellRun, image: str) -> None:
    with contextlib.suppress(*ENGINE_ERRORS):  # in use or gone: its labels say whose it is
        run.client.images.remove(image, force=True)


def _probe_runtime(
    run: CellRun,
    plan: RuntimePlan,
    image: str,
    python: str,
    env: dict[str, str],
    found: VenvFacts,
    facts: RuntimeFacts,
) -> RuntimeFacts:
    """Imports, contents and smoke probes (and the team's tests) in the final image."""
    job = run.job
    mounts = _mounts(run, plan)
    settings = job.settings.model_copy(update={"env": {**job.settings.env, **env}})
    run.job = replace(job, settings=settings)  # PYTHONPATH for the site-packages form
    run.exec_form = True
    run.network_cut = True
    run.facts.probes_offline = True
    spec = ContainerSpec(
        image=image,
        name=job_container_name(job),
        labels=_labels(job),
        mounts=mounts,
        environment=run._env(),
        memory=job.cell.memory,
        cpus=job.settings.cpus,
        network="none",
        tmpfs=TMPFS if plan.read_only else dict(job.cell.tmpfs),
        keep=job.keep,
        has_timeout=False,  # exec-form: no `timeout` program is assumed
        entrypoint=(python, "-c", KEEP_ALIVE),
        read_only=plan.read_only,
    )
    with CellContainer(run.client, spec) as box:
        run.facts.container = spec.name
        if not plan.read_only:  # a read-only root refuses it: the probes are mounted instead
            _put_probes(run, box)
        final = _json_step(
            run, box, "runtime-left-behind",
            [python, "-c", FACTS_SCRIPT, VENV, json.dumps(LEFT_BEHIND_PATHS)], ROOT_USER,
        )  # fmt: skip
        kept = final.sizes if final else {}
        update = {"left_behind": left_behind(found.sizes, kept), "python": python}
        facts = facts.model_copy(update=update)
        run.facts.measures.update(imagesize.before_runtime_probes(box))
        first = len(run.steps)
        run._probe(box, python, ENV_PROBE, [])
        if job.depset.imports:
            run._probe(box, python, IMPORTS_PROBE, imports_probe_args(job))
        run._probe(box, python, CONTENTS_PROBE, ["--venv", VENV])
        for probe in job.depset.probes:
            if not run._probe(box, python, probe, []):
                break
        if job.depset.tests:
            _tests(run, box, python)
        run.facts.measures.update(imagesize.after_probes(box, run.facts.measures))
    if plan.read_only:
        # only what failed on a write to the read-only root: a test that fails on purpose,
        # or for any other reason, is the suite's failure, not the read-only root's
        breaks = []
        for s in run.steps[first:]:
            texts = [_step_problem(run, s.name), s.error, s.reason, s.log_tail]
            if s.status != "passed" and any(t and READ_ONLY_ERROR.search(t) for t in texts):
                said = next((t for t in texts[:3] if t), s.status)
                breaks.append(f"{s.name}: {said}")
        facts = facts.model_copy(update={"read_only_breaks": breaks})
    return facts


def _step_problem(run: CellRun, step: str) -> str | None:
    """A failed probe's own error line (the step says only "failed")."""
    output = run.facts.probes.get(step.removeprefix("probe:"))
    error = output.get("error") if isinstance(output, dict) else None
    return str(error)[:300] if error else None


def _mounts(run: CellRun, plan: RuntimePlan) -> list[Mount]:
    job = run.job
    mounts = []
    if plan.read_only:
        mounts.append(Mount(str(job.probes_dir), PROBES_MOUNT))
        extra = job.settings.extra_probes_dir
        if extra:
            mounts.append(Mount(str((job.matrix_dir / extra).resolve()), EXTRA_PROBES_MOUNT))
    ca = ca_bundle_path(job.settings, job.matrix_dir)
    if ca:
        mounts.append(Mount(str(ca), CA_MOUNT))
    model_dir = job.settings.model_dir
    if model_dir and (job.matrix_dir / model_dir).is_dir():
        mounts.append(Mount(str((job.matrix_dir / model_dir).resolve()), MODELS_MOUNT))
    return mounts + [user.mount for user in project.user_mounts(job)]


def _put_probes(run: CellRun, box: CellContainer) -> None:
    """harness's probes (and the matrix's own) into the container, through the engine."""
    job = run.job
    folders = [(job.probes_dir, PROBES_MOUNT)]
    extra = job.settings.extra_probes_dir
    if extra:
        folders.append(((job.matrix_dir / extra).resolve(), EXTRA_PROBES_MOUNT))
    with tempfile.TemporaryFile() as tar:
        with tarfile.open(fileobj=tar, mode="w") as archive:
            for folder, target in folders:
                for path in sorted(Path(folder).glob("*.py")):
                    info = archive.gettarinfo(str(path), f"{target.lstrip('/')}/{path.name}")
                    info.uid = info.gid = 0
                    info.uname = info.gname = "root"
                    info.mode = 0o644
                    with path.open("rb") as handle:
                        archive.addfile(info, handle)
        tar.seek(0)
        assert box.container is not None
        box.container.put_archive("/", tar)


def runtime_tests_argv(depset: DepsetSpec, python: str, source: str) -> list[str]:
    """The team's test command as argv for a runtime without a shell: its words, a leading
    ``python``/``python3``/``pythonX.Y`` being the runtime's interpreter and any other
    program the copied venv's (in the site-packages form, which copies no ``bin/``, its
    module under ``python -m``), started by project.RUNTIME_TESTS_LAUNCHER from a
    copy of the mounted project folder (``--junitxml`` added as a single-stage cell does)."""
    assert depset.tests is not None
    words = shlex.split(depset.tests.command)
    if words and re.match(r"^python(3(\.\d+)?)?$", words[0]):
        words[0] = python
    elif words and not words[0].startswith("/") and python.startswith(f"{VENV}/"):
        words[0] = f"{VENV}/bin/{words[0]}"
    elif words and not words[0].startswith("/"):
        # the site-packages form copies no venv bin/: the program's module runs the same
        # (``pytest -x`` → ``python -m pytest -x``)
        words = [python, "-m", SCRIPT_MODULES.get(words[0], words[0]), *words[1:]]
    if project.appends_junitxml(depset):
        words.append(f"--junitxml={project.JUNIT_PATH}")
    return project.runtime_tests_launch(python, source, VENV, words)


def _tests(run: CellRun, box: CellContainer, python: str) -> None:
    """The team's tests in the runtime, exec-form; the JUnit file read back and the
    artifacts kept with the runtime's python, recorded as a single-stage cell does."""
    job = run.job
    tests, source = job.depset.tests, job.depset.source
    assert tests is not None and source is not None
    argv = runtime_tests_argv(job.depset, python, project._inside(job, source))
    user = run._default_user()
    outcome = run._step(box, project.TESTS_STEP, "probe", shlex.join(argv), user)
    junit = None
    if tests.junit and not outcome.container_died:
        junit = box.exec(project.read_junit_argv(python), 60, user=user).stdout
    run._record_tests(box, outcome, junit, python)


def _reproducer(run: CellRun, facts: RuntimeFacts) -> Reproducer:
    """The multi-stage Dockerfile this cell measured (the builder's steps, then the copy)."""
    job = run.job
    installs = [
        s
        for s in run.steps
        if s.kind == "install" and s.name not in ("detect-package-manager", COPY_STEP)
    ]
    builder_image = facts.builder_image or facts.builder or "BUILDER"
    lines = [
        f"# {job.cell.id}: installed in {facts.builder}, shipped on {job.cell.base}",
        f"FROM {builder_image} AS builder",
        *[f"RUN {s.command}" for s in installs if s.command],
        "",
        f"FROM {facts.runtime_image or job.base.image or 'RUNTIME'}",
        f"COPY --from=builder {facts.copied_to or VENV} {facts.copied_to or VENV}",
        *[f"ENV {k}={v}" for k, v in (facts.environment or {}).items()],
    ]
    read_only = " --read-only --tmpfs /tmp" if facts.read_only else ""
    command = (
        f"docker build -t {job.cell.base}-{job.cell.depset} . && "
        f"docker run --rm --network none{read_only} {job.cell.base}-{job.cell.depset}"
    )
    return Reproducer(dockerfile="\n".join(lines) + "\n", commands=[command])
