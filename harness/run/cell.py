"""Run one cell: one base × one dependency set, in one throwaway container.

The outcome is data, never an exception: every failure becomes a step status and a
cell status (see docs/design.md). Steps, in order: detect the package manager, system
packages, venv, pip install (with ``--report``), then, with the network cut off, the
environment probe, the import probe, the contents probe (what the image is made of:
OS packages, Python distributions, bytes on disk) and the depset's smoke probes.
A uv cell (``base×depset+uv``) runs ``uv pip install`` instead of pip, with the same
indexes, wheelhouses, CA bundle and requirements, from a binary mounted read-only.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import docker
import docker.errors
from packaging.utils import canonicalize_name

from harness import __version__
from harness.engine.client import LABEL_CELL, LABEL_KEEP, LABEL_RUN, LABEL_RUNNER
from harness.engine.container import (
    ENGINE_ERRORS,
    OUTPUT_HEAD_BYTES,
    OUTPUT_TAIL_BYTES,
    CellContainer,
    ContainerSpec,
    ExecOutcome,
    Mount,
    shell_join,
)
from harness.model.errors import ResultsError
from harness.model.ids import DEFAULT_INSTALLER, container_name, installer_step
from harness.model.matrix import Cell, DepsetSpec, Settings, resolve_ca_bundle
from harness.model.probe_output import (
    CONTENTS_PROBE,
    ENV_PROBE,
    IMPORTS_PROBE,
    TESTS_PROBE,
    ProbeJSON,
    parse_probe_output,
)
from harness.model.results import (
    BaseRecord,
    CellRecord,
    Installer,
    PipFailure,
    Probes,
    RuntimeFacts,
    Step,
)
from harness.run import (
    artifacts,
    classify,
    imagesize,
    installer,
    pipfailure,
    pipreport,
    project,
    uv,
)
from harness.run.redact import Redactor
from harness.run.uv import UvFetched
from harness.store.files import CELLS_DIR, LOGS_DIR
from harness.store.rundir import write_atomic, write_cell

if TYPE_CHECKING:
    from harness.run.runtime import RuntimePlan

VENV = "/opt/harness-venv"
# A non-root image's container runs as root (see ContainerSpec.user): the system packages
# and the venv are made as root, pip and the probes run as the image's own user.
ROOT_USER = "0"
PROBES_MOUNT = "/harness/probes"
EXTRA_PROBES_MOUNT = "/harness/extra-probes"
CA_MOUNT = "/harness/ca.crt"
WHEELHOUSE_MOUNT = "/harness/wheelhouse"
WARM_MOUNT = "/harness/wheelhouse/warm"
MODELS_MOUNT = "/harness/models"
WORK = "/tmp/harness"
LOG_TAIL_CHARS = 6000
NETWORK_RETRIES = 2
WARM_IMPORT_RUNS = 1
# The end of pip --log read after a failure: the failed build block and pip's verdict.
PIP_LOG_TAIL_BYTES = 256 * 1024

PIP_RESULTS_SEPARATOR = "==== harness: end of pip report ===="
DETECT_PM = (
    "for pm in apt-get apk; do if command -v $pm >/dev/null 2>&1; then echo $pm; exit 0; fi; "
    "done; echo none"
)


@dataclass(frozen=True)
class CellJob:
    """Everything one cell needs; built by the plugin, picklable-free of clients."""

    cell: Cell
    repeat: int
    run_id: str
    runner: str
    base: BaseRecord  # the resolved base, as results.json records it
    depset: DepsetSpec
    settings: Settings
    probes_dir: Path
    matrix_dir: Path
    out_dir: Path
    keep: bool = False
    warm_wheelhouse: str | None = None  # warm mode: install from this folder, no index
    warm_image: str | None = None  # warm mode: the base + system packages + an empty venv
    # A uv cell's binary, as the controller fetched it for this base's machine: the facts
    # of run.uv.UvBinary ("path" on the host, "version", ...) or {"reason": why not}.
    uv: UvFetched | None = None
    # A runtime cell (the base names a builder): installed there, probed here (run.runtime).
    runtime: RuntimePlan | None = None

    @property
    def warm(self) -> bool:
        """Installed from warm mode's wheelhouse or snapshot: not a measurement."""
        return bool(self.warm_wheelhouse or self.warm_image)


@dataclass
class CellFacts:
    """What a cell learns while it runs, field by field; ``CellRun._finish`` turns it into
    the one frozen ``CellRecord``. ``None``: not learned (the key is then not written,
    except for the fields every record has)."""

    container: str | None = None
    package_manager: str | None = None
    reason: str | None = None
    environment_limit: str | None = None
    failure_kind: str | None = None  # the base's, when the user's Dockerfile did not build
    engine_lost: bool = False  # not a result: --resume runs the cell again
    probes_offline: bool = False
    distributions: list[pipreport.DistributionRow] = field(default_factory=list)
    download_bytes: int | None = None
    pip_report_environment: Any = None
    installer: Installer | None = None
    probes: dict[str, ProbeJSON] = field(default_factory=dict)  # name: what it printed
    size_start_bytes: int | None = None
    size_added_bytes: int | None = None
    size_probes_bytes: int | None = None
    size_measure_seconds: float | None = None
    runtime: RuntimeFacts | None = None  # a runtime cell's facts (run.runtime)
    measures: imagesize.Measures = field(default_factory=imagesize.Measures)


class StepJSON(TypedDict, total=False):
    """A step as ``CellRun._record_step`` writes it (validated at once as results.Step)."""

    name: str
    kind: str
    status: str
    seconds: float
    exit_code: int | None
    command: str
    network: str
    log_tail: str
    reason: str
    output_dropped_bytes: int
    output_cap_bytes: int
    user: str


@dataclass
class CellRun:
    job: CellJob
    client: docker.DockerClient
    redactor: Redactor
    log: Callable[[str], None] = lambda _line: None
    steps: list[Step] = field(default_factory=list)
    facts: CellFacts = field(default_factory=CellFacts)
    full_log: list[str] = field(default_factory=list)
    network_cut: bool = False
    # The writable layer's size after the last install step (None: not measured yet), and
    # the seconds the engine spent measuring it: the cost of the per-step size breakdown.
    size_mark: int | None = None
    size_seconds: float = 0.0
    # Steps run exec-form (argv, no `sh -c`): a runtime image may have no shell.
    exec_form: bool = False

    def __post_init__(self) -> None:
        if self.facts.installer is None:
            self.facts.installer = _planned_installer(self.job)

    # -- entry point -----------------------------------------------------------------

    def run(self) -> CellRecord:
        """Run the cell and return its record (the cell file is written from it)."""
        job = self.job
        started = time.time()
        self.facts = CellFacts(installer=_planned_installer(job))
        if job.base.status == "failed":  # the user's own Dockerfile did not build
            self.facts.failure_kind = job.base.failure_kind
            return self._finish("failed", f"base {job.cell.base}: {job.base.reason}", started)
        if job.base.status != "available":
            return self._finish("unavailable", f"base unavailable: {job.base.reason}", started)
        missing_installer = installer_unavailable(job)
        if missing_installer:
            return self._finish("unavailable", missing_installer, started)
        problem = project.write_lock_export(job)
        if problem:  # the lock file changed or vanished since the matrix loaded
            return self._finish("error", problem, started)
        if job.runtime is not None:  # installed in its builder, probed in the runtime
            from harness.run.runtime import run_runtime_cell

            return run_runtime_cell(self, job.runtime, started)
        try:
            with CellContainer(self.client, self._container_spec()) as box:
                self.facts.container = job_container_name(job)
                self._start_sizing(box)
                self._run_steps(box)
                self._record_size(box)
                self.facts.measures.update(imagesize.after_probes(box, self.facts.measures))
        except docker.errors.ImageNotFound as err:
            return self._finish("unavailable", f"image not found: {err}", started)
        except ENGINE_ERRORS as err:
            self.facts.engine_lost = True  # not a result: --resume runs the cell again
            return self._finish("error", f"docker engine: {_one_line(str(err))}", started)
        return self._finish(self._status(), self.facts.reason, started)

    def _run_steps(self, box: CellContainer) -> None:
        if not self._install(box):
            return
        self.facts.measures.update(
            imagesize.after_install(
                box, self.job, self.size_mark, f"{VENV}/bin/python", self._probe_path("_layersize")
            )
        )
        tests = self.job.depset.tests
        if tests and tests.network and not self._tests(box):
            return
        box.disconnect_network()
        self.network_cut = True
        self.facts.probes_offline = True
        python = f"{VENV}/bin/python"
        self._probe(box, python, ENV_PROBE, [])
        if self.job.depset.imports:
            self._probe(box, python, IMPORTS_PROBE, imports_probe_args(self.job))
        self._probe(box, python, CONTENTS_PROBE, ["--venv", VENV])
        for probe in self.job.depset.probes:
            if not self._probe(box, python, probe, []):
                return
        if tests and not tests.network:
            self._tests(box)

    # -- install steps -----------------------------------------------------------------

    def _install(self, box: CellContainer) -> bool:
        family = self._package_manager(box)
        self.facts.package_manager = family
        if self.job.depset.system and not self._sized(box, self._system_packages(box, family)):
            return False
        if self.job.warm_image:
            self._record_warm_step("venv", "made")
        else:
            python = self.job.base.python_command or "python3"
            user = self._default_user()
            command = venv_command(python, user)
            venv = self._step(box, "venv", "install", command, user=ROOT_USER if user else "")
            if not self._sized(box, venv.exit_code == 0):
                return False
        if installer.installs_with_pip(self.job) and not self._pip_seed(box):
            return False
        if project.needs_pip_step(self.job.depset) and not self._sized(
            box, self._installer_step(box)
        ):
            return False
        if self.job.depset.project:
            command = project.project_install_command(self.job, VENV)
            step = self._step(box, "project-install", "install", command, self._default_user())
            return self._sized(box, self._after_install_step(step))
        return True

    # -- bytes on disk -------------------------------------------------------------------

    def _measure_size(self, box: CellContainer) -> int | None:
        """The writable layer's bytes now; the engine walks it, so the time is recorded."""
        started = time.monotonic()
        size = _safe(box.size_added)
        self.size_seconds += time.monotonic() - started
        return size if isinstance(size, int) else None

    def _start_sizing(self, box: CellContainer) -> None:
        """The fresh container's layer: what the steps' bytes are counted from."""
        self.size_mark = self._measure_size(box)
        self.facts.size_start_bytes = self.size_mark

    def _sized(self, box: CellContainer, passed: bool) -> bool:
        """Attribute the bytes the last install step added to it (``bytes_added``).

        Measured after the step's own clean-up (pip's log and report are removed), so a
        step's figure is what stays in the image. Warm steps did their work in the
        snapshot image, outside this container's layer, and are not measured."""
        step = self.steps[-1] if self.steps else None
        if step is None or step.warm or step.kind != "install":
            return passed
        size = self._measure_size(box)
        if size is not None and self.size_mark is not None:
            self._amend(bytes_added=size - self.size_mark)
        self.size_mark = size
        return passed

    def _record_size(self, box: CellContainer) -> None:
        """The cell's total, and what was written after the install steps (the probes'
        and tests' caches and files): start + the steps' ``bytes_added`` + this = total."""
        total = self._measure_size(box)
        self.facts.size_added_bytes = total
        if total is not None and self.size_mark is not None:
            self.facts.size_probes_bytes = total - self.size_mark
        self.facts.size_measure_seconds = round(self.size_seconds, 3)

    def _package_manager(self, box: CellContainer) -> str | None:
        """From the base's env probe when it ran; otherwise asked in this container."""
        tools = self.job.base.tools
        known = (
            tools.package_manager
            if tools is not None and "package_manager" in tools.model_fields_set
            else "unknown"
        )
        if known == "unknown":
            detect = self._step(box, "detect-package-manager", "install", DETECT_PM)
            known = detect.stdout.strip().splitlines()[-1] if detect.exit_code == 0 else None
        return package_family(known)

    def _system_packages(self, box: CellContainer, family: str | None) -> bool:
        if self.job.warm_image:
            self._record_warm_step("system-packages", "preinstalled")
            return True
        packages = self.job.depset.system.get(family) if family else None  # type: ignore[call-overload]
        if family is None and self.job.base.standin:
            return self._standin_without_package_manager()
        if not packages:
            why = (
                "the base has no package manager (no apt-get, no apk)"
                if family is None
                else f"the depset names no system packages for {family}"
            )
            self._record_step("system-packages", "install", "unsupported", 0.0, None, "", why)
            self.facts.reason = f"system packages requested but {why}"
            return False
        command = system_install_command(family, packages)  # type: ignore[arg-type]
        # A package manager needs root; an image whose default user is not root (USER app)
        # gets its system packages as root, like a Dockerfile's `USER root` before apt-get.
        as_root = ROOT_USER if self._default_user() else ""
        outcome = self._step(box, "system-packages", "install", command, user=as_root)
        return self._after_install_step(outcome)

    def _standin_without_package_manager(self) -> bool:
        """A stand-in built without a package manager (the musl build has no apk) says
        nothing of the image it stands for, which has one: a limit of where this ran."""
        reference = self.job.base.reference or "the image it stands for"
        limit = (
            f"this stand-in for {reference} has no package manager (no apt-get, no apk), so "
            f"the depset's system packages cannot be installed here; {reference} itself "
            "was not measured (a limit of this environment, not of the base)"
        )
        self._record_step("system-packages", "install", "unavailable", 0.0, None, "", limit)
        self.facts.environment_limit = limit
        self.facts.reason = f"environment limit: {limit}"
        return False

    def _record_warm_step(self, name: str, done: str) -> None:
        """A step the warm snapshot image already did: 0 s, and never a measurement."""
        note = f"warm: {done} in {str(self.job.warm_image)[:19]} (not measured)"
        self._record_step(name, "install", "passed", 0.0, 0, "", note, command=note)
        self._amend(warm=True)

    def _pip_seed(self, box: CellContainer) -> bool:
        """settings/base pip_version into the venv (its own timed, sized step), then the
        venv's pip version on the record, known even if the install fails (run.installer)."""
        links = [f"{WHEELHOUSE_MOUNT}/{i}" for i in range(len(self._wheelhouses()))]
        command = installer.pip_seed_command(self.job, VENV, links)
        if command:
            seed = self._step(
                box, installer.PIP_SEED_STEP, "install", command, self._default_user()
            )
            if seed.exit_code:  # e.g. no-matching-distribution: a pip_version no index has
                self._amend(failure_kind=pipreport.classify_failure(seed.output))
            if not self._sized(box, self._after_install_step(seed)):
                return False
        found = box.exec(["sh", "-c", installer.installer_version_command(VENV)], 60)
        version = installer.parse_pip_version(found.stdout)
        self.facts.installer = installer.pip_installer_record(version, self.job)
        return True

    def _installer_step(self, box: CellContainer) -> bool:
        """The depset's requirements, installed by this cell's installer."""
        if self.job.cell.installer == "uv":
            return self._uv_install(box)
        return self._pip_install(box)

    def _pip_install(self, box: CellContainer) -> bool:
        command = pip_install_command(self.job, self._wheelhouses())
        for attempt in range(1 + NETWORK_RETRIES):
            outcome = self._step(box, "pip-install", "install", command, self._default_user())
            kind = self._pip_failure_kind(box, outcome) if outcome.exit_code else None
            self._amend(attempt=attempt + 1, failure_kind=kind)
            if kind != "network" or attempt == NETWORK_RETRIES:
                break
            self.log(f"network failure in pip install, retry {attempt + 1}/{NETWORK_RETRIES}")
        self._read_pip_results(box, outcome.output)
        return self._after_install_step(outcome)

    def _uv_install(self, box: CellContainer) -> bool:
        """The pip step's twin: same requirements, indexes, wheelhouses and CA bundle."""
        command = uv_install_shell(self.job, self._wheelhouses())
        for attempt in range(1 + NETWORK_RETRIES):
            outcome = self._step(box, installer_step("uv"), "install", command)
            kind = uv.classify_uv_failure(outcome.output) if outcome.exit_code else None
            self._amend(attempt=attempt + 1, failure_kind=kind)
            if kind != "network" or attempt == NETWORK_RETRIES:
                break
            self.log(f"network failure in uv install, retry {attempt + 1}/{NETWORK_RETRIES}")
        self._amend(uv_seconds=uv.step_seconds(outcome.stderr))  # uv's resolve/prepare/...
        self.facts.distributions = uv.distributions_from_uv_output(
            outcome.stdout,
            outcome.stderr,
            requested=self.job.depset.pip,
            wheelhouse_files=self._wheelhouse_files(),
        )
        return self._after_install_step(outcome)

    def _wheelhouse_files(self) -> list[str]:
        folders = [*self._wheelhouses()]
        if self.job.warm_wheelhouse:
            folders.append(Path(self.job.warm_wheelhouse))
        return [f.name for folder in folders for f in folder.iterdir() if f.is_file()]

    def _pip_failure_kind(self, box: CellContainer, outcome: ExecOutcome) -> str | None:
        """Why pip failed. The console hides a build's output ('See above for output.'):
        with --log it went to the log only, so the cause lines are read from there."""
        detail = box.exec(["sh", "-c", f"tail -c {PIP_LOG_TAIL_BYTES} {WORK}/pip.log"], 60)
        kind = pipreport.classify_failure(outcome.output + "\n" + detail.stdout)
        family = self.facts.package_manager
        ca = ca_bundle_path(self.job.settings, self.job.matrix_dir)
        context = pipfailure.host_context(  # looked up on the host, bounded by timeouts
            family,
            _system_packages_of(self.job.depset, family),
            self.job.base.env,
            cafile=str(ca) if ca else None,
            index_url=self.job.settings.index_url,
        )
        failure = pipfailure.diagnose(outcome.output, detail.stdout, kind, family, context)
        self._amend(
            failure=self.redactor.deep(failure.to_dict()),
            failure_summary=self.redactor.text(failure.one_line()),
            **(
                {"log_detail": self.redactor.text("\n".join(failure.cause))}
                if failure.cause
                else {}
            ),
        )
        return pipfailure.refine_kind(failure, kind)

    def _after_install_step(self, outcome: ExecOutcome) -> bool:
        if outcome.exit_code == 0 and not outcome.timed_out:
            return True
        limit = self._environment_limit(outcome.output)
        if limit:
            self._amend(status="unavailable")
            self.facts.environment_limit = limit
            self.facts.reason = f"environment limit: {limit}"
        elif self.steps[-1].failure_kind:
            step = self.steps[-1]
            summary = step.failure_summary
            self.facts.reason = f"{step.name}: {step.failure_kind}" + (
                f": {summary}" if summary else ""
            )
        return False

    def _environment_limit(self, log: str) -> str | None:
        if self.job.cell.expected_failure is not None:  # declared: it comes first (classify)
            return None
        return classify.environment_limit(
            self.job.depset.environment_limits, self.job.cell.base, log
        )

    def _read_pip_results(self, box: CellContainer, log: str) -> None:
        # One exec for the report, the build lines and the clean-up (each exec costs ~60 ms).
        script = (
            f"cat {WORK}/pip-report.json 2>/dev/null; echo; echo '{PIP_RESULTS_SEPARATOR}'; "
            f"grep 'Building wheel for' {WORK}/pip.log; rm -rf {WORK}"  # not what the cell adds
        )
        outcome = box.exec(["sh", "-c", script], 60)
        report_text, _, build_lines = outcome.stdout.partition(PIP_RESULTS_SEPARATOR)
        report = pipreport.parse_report(report_text.strip())
        durations = pipreport.build_durations(build_lines)
        dists = pipreport.distributions(report) if report else []
        for dist in dists:
            if not dist["wheel"]:
                dist["build_seconds"] = _build_seconds(durations, str(dist["name"]))
        failure = self.steps[-1].failure if self.steps else None
        _mark_failed_build(dists, failure)
        self.facts.distributions = dists
        self.facts.download_bytes = pipreport.downloaded_bytes(log)
        written = report is not None and "environment" in report.model_fields_set
        self.facts.pip_report_environment = (
            report.environment.model_dump(exclude_unset=True) if report and written else None
        )
        known = self.facts.installer or Installer(name="pip")
        version = (report.pip_version if report else None) or known.version
        self.facts.installer = known.model_copy(update={"version": version})

    # -- probes --------------------------------------------------------------------------

    def _probe(self, box: CellContainer, python: str, name: str, args: list[str]) -> bool:
        """Record one probe; False when the container is gone and nothing more can run."""
        argv = [python, self._probe_path(name), *args]
        outcome = self._step(box, f"probe:{name}", "probe", shell_join(argv), self._default_user())
        status = self.steps[-1].status
        parsed, problem = parse_probe_output(outcome.stdout)
        if parsed is not None:
            problem = probe_shape_problem(name, parsed)  # the record's types, checked here
        if parsed is None or problem is not None:
            if status in ("passed", "failed"):  # timeout/oom say more than "no JSON"
                status = "error"
            self._amend(status=status, error=problem)
            parsed = {"status": "error", "error": problem}
        elif status == "passed" and parsed.get("status") != "passed":
            self._amend(status="failed")
        self.facts.probes[name] = self.redactor.deep(parsed)
        return not outcome.container_died

    def _tests(self, box: CellContainer) -> bool:
        """The depset's own test suite, recorded as the probe ``tests``."""
        command = project.tests_command(self.job, VENV)
        outcome = self._step(box, project.TESTS_STEP, "probe", command, self._default_user())
        junit = None
        if self.job.depset.tests and self.job.depset.tests.junit and not outcome.container_died:
            junit = box.exec(project.read_junit_command(), 60).stdout
        self._record_tests(box, outcome, junit, f"{VENV}/bin/python")
        return not outcome.container_died

    def _record_tests(
        self, box: CellContainer, outcome: ExecOutcome, junit: str | None, python: str
    ) -> None:
        """What the suite's step (the last one) means, for a single-stage cell and a
        runtime cell alike: the ``tests`` probe's record from its outcome and its JUnit
        text, the files ``tests.artifacts`` keeps (packed by ``python`` in the container,
        no shell), the step failed when the suite did, and the cell's reason."""
        tests = self.job.depset.tests
        record, reason = project.tests_outcome(self.job, outcome, junit)
        if tests and tests.artifacts and not outcome.container_died:
            record["artifacts"] = artifacts.collect(  # run/artifacts.py: what the suite wrote
                box, python, project.SOURCE_COPY, tests.artifacts,
                self.job.out_dir, self.job.cell.id, self.job.repeat, self._default_user(),
            )  # fmt: skip
        if self.steps[-1].status == "passed" and record["status"] != "passed":
            self._amend(status="failed")
        if reason:
            self._amend(reason=reason)
            self.facts.reason = self.facts.reason or reason
        self.facts.probes[TESTS_PROBE] = self.redactor.deep(record)

    def _probe_path(self, name: str) -> str:
        if (self.job.probes_dir / f"{name}.py").is_file():
            return f"{PROBES_MOUNT}/{name}.py"
        return f"{EXTRA_PROBES_MOUNT}/{name}.py"

    # -- steps -------------------------------------------------------------------------

    def _default_user(self) -> str:
        """The image's USER when it is not root ("" for root), from the base's facts."""
        return non_root_user(self.job.base.user)

    def _step(
        self, box: CellContainer, name: str, kind: str, command: str, user: str = ""
    ) -> ExecOutcome:
        self.log(f"{self.job.cell.id}: {name}")
        limit = self._timeout(kind)
        if self.exec_form:  # the command is a shell_join'ed argv: split back, no shell
            argv = shlex.split(command)
            outcome = box.exec(argv, timeout=limit, environment=self._env(), user=user)
        else:
            outcome = box.run_shell(command, timeout=limit, environment=self._env(), user=user)
        status = _step_status(outcome)
        self._record_step(
            name,
            kind,
            status,
            outcome.seconds,
            outcome.exit_code,
            outcome.output,
            None,
            command=command,
            outcome=outcome,
            user=user,
        )
        return outcome

    def _timeout(self, kind: str) -> float:
        timeouts = self.job.cell.timeouts
        return timeouts.install if kind == "install" else timeouts.probe

    def _record_step(
        self,
        name: str,
        kind: str,
        status: str,
        seconds: float,
        exit_code: int | None,
        output: str,
        reason: str | None,
        *,
        command: str = "",
        outcome: ExecOutcome | None = None,
        user: str = "",
    ) -> None:
        clean = self.redactor.text(output)
        step: StepJSON = {
            "name": name,
            "kind": kind,
            "status": status,
            "seconds": round(seconds, 3),
            "exit_code": exit_code,
            "command": self.redactor.text(command),
            "network": "none" if self.network_cut else self.job.cell.install_network,
            "log_tail": clean[-LOG_TAIL_CHARS:],
        }
        if reason:
            step["reason"] = reason
        if outcome is not None and outcome.dropped_bytes:  # the log is capped: say by how much
            step["output_dropped_bytes"] = outcome.dropped_bytes
            step["output_cap_bytes"] = OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES
        if outcome is not None and status == "oom":
            step["reason"] = f"killed by the OOM killer (memory limit {self.job.cell.memory})"
        if outcome is not None and status == "timeout":
            which = "install" if kind == "install" else "probe"
            step["reason"] = f"exceeded the {which} timeout of {self._timeout(kind):.0f} s"
        if outcome is not None and outcome.exit_code is None and outcome.container_died:
            # The exec itself failed (engine restarting, container removed): say so, rather
            # than "the probe printed nothing", and let --resume run the cell again.
            step["reason"] = _one_line(outcome.stderr) or "lost the container or the engine"
            self.facts.engine_lost = True
        if user:
            step["user"] = user
        self.steps.append(Step.model_validate(step))
        self.full_log.append(f"=== {name} ({status}, {seconds:.1f} s) $ {step['command']}\n{clean}")

    def _status(self) -> str:
        for step in self.steps:
            if step.status != "passed":
                return str(step.status)
        return "passed"

    def _amend(self, **fields: Any) -> None:
        """The last step, with what was learned after it ran (a new frozen Step)."""
        self.steps[-1] = Step.model_validate({**self.steps[-1].to_dict(), **fields})

    def _finish(self, status: str, reason: str | None, started: float) -> CellRecord:
        """The one construction of the cell's frozen record, from what it learned."""
        expected = self.job.cell.expected_failure
        status = classify.final_status(status, expected is not None)  # run/classify.py
        if reason is None and status not in ("passed", "unexpected-pass"):
            reason = _first_problem(self.steps)
        job, facts, ended = self.job, self.facts, time.time()
        # Every record has these keys (null when not learned), in this order ...
        fields: dict[str, object] = {  # validated as the CellRecord below
            "id": job.cell.id,
            "base": job.cell.base,
            "depset": job.cell.depset,
            "repeat": job.repeat,
            "status": status,
            "reason": reason,
            "standin": job.base.standin,
            "container": facts.container,
            "package_manager": facts.package_manager,
            "steps": [step.to_dict() for step in self.steps],
            "distributions": facts.distributions,
            "download_bytes": facts.download_bytes,
            "size_added_bytes": facts.size_added_bytes,
            "probes": facts.probes,
            "probes_offline": facts.probes_offline,
            "expected_failure": expected.model_dump() if expected else None,
            "runner_pid": os.getpid(),
            "warm": job.warm,
            "installer": facts.installer.to_dict() if facts.installer else None,
            "started_at": _iso(started),
            "ended_at": _iso(ended),
            "seconds": round(ended - started, 3),
            "install_seconds": round(
                sum(s.seconds or 0.0 for s in self.steps if s.kind == "install"), 3
            ),
            "reproducer": reproducer(self.job, self.steps, self._mounts(), self._env()),
        }
        # ... and these only when the cell learned them.
        learned = {
            "failure_kind": facts.failure_kind,
            "environment_limit": facts.environment_limit,
            "pip_report_environment": facts.pip_report_environment,
            "size_start_bytes": facts.size_start_bytes,
            "size_probes_bytes": facts.size_probes_bytes,
            "size_measure_seconds": facts.size_measure_seconds,
            "engine_lost": facts.engine_lost or None,
            "runtime": facts.runtime.to_dict() if facts.runtime else None,
            **facts.measures,
        }
        fields.update({k: v for k, v in learned.items() if v is not None})
        if facts.container is not None:  # measured from the fresh container, maybe unknown
            fields.setdefault("size_start_bytes", facts.size_start_bytes)
        if self.redactor is not None:  # the reproducer's env, engine errors, probe output
            fields = self.redactor.deep(fields)
        try:
            return CellRecord.from_dict(fields, f"cell {job.cell.id}")
        except ResultsError as err:  # a failing cell is data: say what could not be recorded
            kept = {k: fields[k] for k in ("id", "base", "depset", "repeat", "started_at")}
            return CellRecord.from_dict(
                {**kept, "status": "error", "reason": f"harness could not record it: {err.what}"}
            )

    # -- container set-up ---------------------------------------------------------------

    def _container_spec(self) -> ContainerSpec:
        job = self.job
        return ContainerSpec(
            image=job.warm_image or str(job.base.image_id),
            name=job_container_name(job),
            labels={
                LABEL_RUN: job.run_id,
                LABEL_CELL: job.cell.id,
                LABEL_RUNNER: job.runner,
                "harness.repeat": str(job.repeat),
                "harness.version": __version__,
                **({LABEL_KEEP: "1"} if job.keep else {}),
            },
            mounts=self._mounts(),
            environment=self._env(),
            memory=job.cell.memory,
            cpus=job.settings.cpus,
            network=job.cell.install_network,
            tmpfs=dict(job.cell.tmpfs),
            keep=job.keep,
            has_timeout=job.base.tools.timeout if job.base.tools else None,
            remove_in_background=job.warm,
            user=ROOT_USER if self._default_user() else None,
        )

    def _mounts(self) -> list[Mount]:
        mounts = [Mount(str(self.job.probes_dir), PROBES_MOUNT)]
        extra = self.job.settings.extra_probes_dir
        if extra:
            mounts.append(Mount(str((self.job.matrix_dir / extra).resolve()), EXTRA_PROBES_MOUNT))
        ca = ca_bundle_path(self.job.settings, self.job.matrix_dir)
        if ca:
            mounts.append(Mount(str(ca), CA_MOUNT))
        if self.job.warm_wheelhouse:
            mounts.append(Mount(self.job.warm_wheelhouse, WARM_MOUNT))
        for index, path in enumerate(self._wheelhouses()):
            mounts.append(Mount(str(path), f"{WHEELHOUSE_MOUNT}/{index}"))
        uv_path = _uv_path(self.job)
        if self.job.cell.installer == "uv" and uv_path:
            mounts.append(Mount(uv_path, uv.UV_MOUNT))
        model_dir = self.job.settings.model_dir
        if model_dir and (self.job.matrix_dir / model_dir).is_dir():
            mounts.append(Mount(str((self.job.matrix_dir / model_dir).resolve()), MODELS_MOUNT))
        return mounts + [user.mount for user in project.user_mounts(self.job)]

    def _wheelhouses(self) -> list[Path]:
        paths = [(self.job.matrix_dir / p).resolve() for p in self.job.settings.wheelhouses]
        return [p for p in paths if p.is_dir()]

    def _env(self) -> dict[str, str]:
        env = container_environment(self.job.settings, self.job.matrix_dir)
        if self.job.cell.installer == "uv":
            env.update(uv_environment(self.job))
        return env


# -- pure helpers (unit-tested) ------------------------------------------------------------


def job_container_name(job: CellJob) -> str:
    return container_name(job.run_id, job.cell.id, job.repeat)


def installer_unavailable(job: CellJob) -> str | None:
    """Why this cell's installer cannot be had (pip always can: the venv brings it)."""
    if job.cell.installer == DEFAULT_INSTALLER or not project.needs_pip_step(job.depset):
        return None
    if job.cell.installer == "uv":
        if _uv_path(job):
            return None
        reason = (job.uv or {}).get("reason") or "uv was not fetched for this run"
        return f"uv unavailable: {reason}"
    return f"no installer named {job.cell.installer!r}"


def _uv_path(job: CellJob) -> str | None:
    """The uv binary fetched for this cell's base, on the host (None: none was had)."""
    return job.uv["path"] if job.uv and job.uv.get("path") else None


def installer_record(job: CellJob) -> Installer | None:
    """``{name, version, ...}`` for the record: what measured this cell's install."""
    if job.cell.installer != "uv" or not job.uv:
        return None
    facts = {k: job.uv.get(k) for k in ("version", "wheel", "sha256", "platform", "static")}
    return Installer.from_dict(
        {
            "name": "uv",
            **facts,
            "index_strategy": job.settings.uv_index_strategy,
            "compile_bytecode": not job.warm,
            "cache": "none (--no-cache)",
        },
        "uv",
    )


def uv_arguments(job: CellJob, wheelhouses: list[Path]) -> tuple[list[str], dict[str, str]]:
    """``uv pip install`` argv and environment, in the pip step's terms (run.uv)."""
    settings = job.settings
    links = [f"{WHEELHOUSE_MOUNT}/{i}" for i in range(len(wheelhouses))]
    if job.warm_wheelhouse:
        links = [WARM_MOUNT, *links]
    has_ca = ca_bundle_path(settings, job.matrix_dir) is not None
    return uv.uv_install_command(
        VENV,
        job.depset.pip,
        index_url=settings.index_url,
        extra_index_urls=settings.extra_index_urls,
        find_links=links,
        ca_bundle_path=CA_MOUNT if has_ca else None,
        index_strategy=settings.uv_index_strategy,
        compile_bytecode=not job.warm,  # warm pip skips byte-compiling too (--no-compile)
        no_index=bool(job.warm_wheelhouse),
        extra_args=job.depset.pip_args,
    )


def uv_environment(job: CellJob) -> dict[str, str]:
    return uv_arguments(job, [])[1]


def uv_install_shell(job: CellJob, wheelhouses: list[Path]) -> str:
    argv, _env = uv_arguments(job, wheelhouses)
    # Requirement files and the lock export, as the pip step gets them (uv reads -r/-c).
    return " ".join([shell_join(argv), *project.requirement_args(job)])


def imports_probe_args(job: CellJob) -> list[str]:
    """Cold cells time each import in several fresh interpreters (the probe's default) for
    a stable median; a warm cell's number is not a measurement, so one proves the import."""
    runs = ["--runs", str(WARM_IMPORT_RUNS)] if job.warm else []
    return [*runs, *job.depset.imports]


def package_family(manager: str | None) -> str | None:
    """``apt`` or ``apk`` for the package manager found in an image, else None."""
    return {"apt-get": "apt", "apk": "apk"}.get(manager or "")


def ca_bundle_path(settings: Settings, matrix_dir: Path) -> Path | None:
    return resolve_ca_bundle(settings, matrix_dir)


def container_environment(settings: Settings, matrix_dir: Path) -> dict[str, str]:
    env = {
        "DEBIAN_FRONTEND": "noninteractive",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        "PIP_NO_CACHE_DIR": "1",
        "HF_HUB_OFFLINE": "1",
        "LANG": "C.UTF-8",
    }
    if ca_bundle_path(settings, matrix_dir):
        for key in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            env[key] = CA_MOUNT
    if settings.index_url:
        env["PIP_INDEX_URL"] = settings.index_url
    if settings.extra_index_urls:
        env["PIP_EXTRA_INDEX_URL"] = " ".join(settings.extra_index_urls)
    if settings.model_dir:
        env["HARNESS_MODEL_DIR"] = MODELS_MOUNT
    env.update(settings.env)
    return env


def non_root_user(user: str | None) -> str:
    """An image's Config.User when it names someone other than root, else ""."""
    name = (user or "").split(":", 1)[0]
    return "" if name in ("", "root", "0") else str(user)


def venv_command(python: str, default_user: str) -> str:
    """The venv lives in /opt, which only root may write: for a non-root image it is made
    as root and given to that user (the container keeps CHOWN), so pip and the probes
    still run as the image's own user."""
    make = f"{python} -m venv {VENV}"
    if not default_user:
        return make
    return f"{make} && chown -R {shlex.quote(default_user)} {VENV}"


def system_install_command(family: str, packages: list[str]) -> str:
    names = " ".join(packages)
    if family == "apk":
        return f"apk add --no-cache {names}"
    return (
        "apt-get update -q && apt-get install -y -q --no-install-recommends "
        f"{names} && apt-get clean && rm -rf /var/lib/apt/lists/*"
    )


def pip_install_command(job: CellJob, wheelhouses: list[Path]) -> str:
    links = [f"--find-links {WHEELHOUSE_MOUNT}/{i}" for i in range(len(wheelhouses))]
    if job.warm_wheelhouse:
        # --no-compile: the import probe's first interpreter compiles what it imports;
        # byte-compiling every installed file is half of a warm install's time.
        links = ["--no-index", "--no-compile", f"--find-links {WARM_MOUNT}", *links]
    requirements = " ".join(f"'{r}'" for r in job.depset.pip)
    return " ".join(
        [
            f"mkdir -p {WORK} &&",
            f"{VENV}/bin/python -m pip install --progress-bar off",
            f"--report {WORK}/pip-report.json --log {WORK}/pip.log",
            *links,
            *job.depset.pip_args,
            *([requirements] if requirements else []),
            *project.requirement_args(job),
        ]
    )


class ReproducerText(TypedDict):
    """A cell's ``reproducer`` (results.Reproducer), as the record is written."""

    dockerfile: str
    commands: list[str]


def reproducer(
    job: CellJob,
    steps: Sequence[Step | Mapping[str, object]],  # mappings: validated as Step
    mounts: list[Mount],
    env: dict[str, str],
) -> ReproducerText:
    """A Dockerfile and the docker commands that redo this cell by hand."""
    typed = [s if isinstance(s, Step) else Step.model_validate(s) for s in steps]
    image = job.base.image or job.base.reference or "IMAGE"
    name = job_container_name(job)
    installs = [s for s in typed if s.kind == "install" and s.name != "detect-package-manager"]
    probes = [s for s in typed if s.kind == "probe"]
    lines = [f"# {job.cell.id}: {job.base.standin or 'image ' + str(image)}"]
    lines.append(f"FROM {image}")
    lines += project.dockerfile_lines(job)
    for mount in mounts:
        # The user's files are copied above; copy these from the host into the context.
        if mount.target != PROBES_MOUNT and not mount.target.startswith(project.USER_MOUNT):
            lines.append(f"# from the host: {mount.host}")
            lines.append(f"COPY {Path(mount.host).name} {mount.target}")
    lines += [f"ENV {k}={v}" for k, v in sorted(env.items()) if k not in ("HF_HUB_OFFLINE",)]
    lines += _dockerfile_runs(installs, non_root_user(job.base.user))
    lines += [f"RUN {s.command}" for s in probes if s.name == project.TESTS_STEP]
    volumes = " ".join(f"-v {m.host}:{m.target}{':ro' if m.read_only else ''}" for m in mounts)
    envs = " ".join(f"-e {k}={v}" for k, v in sorted(env.items()))
    limits = (f" --memory {job.cell.memory}" if job.cell.memory else "") + (
        f" --cpus {job.settings.cpus}" if job.settings.cpus else ""
    )
    as_root = " --user 0" if non_root_user(job.base.user) else ""
    commands = [
        f"docker run -d --name {name}{limits}{as_root} {volumes} {envs} "
        f"--entrypoint sleep {image} infinity"
    ]
    commands += [
        f"docker exec{' -u ' + s.user if s.user else ''} {name} sh -c " + _quote(s.command or "")
        for s in installs
    ]
    commands.append(f"docker network disconnect {job.cell.install_network} {name}")
    commands += [
        f"docker exec{' -u ' + s.user if s.user else ''} {name} sh -c " + _quote(s.command or "")
        for s in probes
    ]
    commands.append(f"docker rm -f {name}")
    return {"dockerfile": "\n".join(lines) + "\n", "commands": commands}


def _dockerfile_runs(installs: list[Step], default_user: str) -> list[str]:
    """RUN lines, switching USER around the steps that ran as root on a non-root image."""
    lines, current = [], default_user
    for step in installs:
        wanted = "root" if step.user == ROOT_USER else default_user
        if wanted != current:
            lines.append(f"USER {wanted}")
            current = wanted
        lines.append(f"RUN {(step.command or '').replace(WORK, '/tmp')}")
    if current != default_user:
        lines.append(f"USER {default_user}")
    return lines


def _quote(command: str) -> str:
    return "'" + command.replace("'", "'\"'\"'") + "'"


def _step_status(outcome: ExecOutcome) -> str:
    if outcome.timed_out:
        return "timeout"
    if outcome.oom_killed:
        return "oom"
    if outcome.exit_code is None or (outcome.container_died and outcome.exit_code != 0):
        return "error"
    return "passed" if outcome.exit_code == 0 else "failed"


def _first_problem(steps: list[Step]) -> str | None:
    for step in steps:
        if step.status != "passed":
            detail = step.reason or step.error or step.failure_kind
            return f"{step.name} {step.status}" + (f": {detail}" if detail else "")
    return None


def _mark_failed_build(dists: list[pipreport.DistributionRow], failure: PipFailure | None) -> None:
    """pip's report lists what it resolved, before building: one whose build failed is
    not installed, and says so (``failed: "build"``). A build that failed while pip was
    still resolving (its metadata) is in no report: it is added, so the cell lists it."""
    if not failure or failure.stage != pipfailure.BUILD or not failure.distribution:
        return
    name, _, version = failure.distribution.partition(" ")
    wanted = canonicalize_name(name)
    for dist in dists:
        if canonicalize_name(str(dist["name"])) == wanted:
            dist["failed"] = "build"
            return
    dists.append(
        {"name": name, "version": version or None, "wheel": False, "tag": None,
         "family": "sdist", "requested": None, "source": None, "failed": "build"}
    )  # fmt: skip


def _build_seconds(durations: dict[str, float], name: str) -> float | None:
    wanted = canonicalize_name(name)
    for key, seconds in durations.items():
        if canonicalize_name(key) == wanted:
            return seconds
    return None


def _planned_installer(job: CellJob) -> Installer | None:
    """The installer the record names before the install step says more (pip's version)."""
    return installer_record(job) or (
        Installer(name=job.cell.installer, version=None)
        if project.needs_pip_step(job.depset)
        else None
    )


def probe_shape_problem(name: str, output: Mapping[str, object]) -> str | None:
    """Why a probe's JSON is not what the record's type for it says (a user's probe that
    prints ``"seconds": "slow"``), or None: the cell records an error, never crashes."""
    try:
        Probes.from_dict({name: output}, f"probe {name}")
    except ResultsError as err:
        return err.what.replace(" (not the shape of a harness results.json)", "")
    return None


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except ENGINE_ERRORS:
        return None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="seconds")


def write_cell_result(out_dir: Path, file_name: str, record: CellRecord, log: str) -> Path:
    """Written the moment the cell ends, atomically, so a crash loses nothing finished."""
    write_atomic(out_dir / LOGS_DIR / file_name.replace(".json", ".log"), log)
    return write_cell(out_dir / CELLS_DIR / file_name, record)


def _system_packages_of(depset: DepsetSpec, family: str | None) -> list[str]:
    """The system packages the depset asks of this package manager (none when unknown)."""
    if family == "apt":
        return list(depset.system.get("apt") or [])
    if family == "apk":
        return list(depset.system.get("apk") or [])
    return []
