"""The preflight of a matrix: every selected cell's Python requirements predicted for its base.

``run.preflight`` predicts one requirement list for one set of base facts; this module
feeds it a matrix: the facts come from each resolved base's env probe (cached by image id,
never guessed from the base's name), the index options from the matrix's settings (its
wheelhouses, so the CPU torch in /opt/wheels is seen, and its indexes) and the depset's
``pip_args``. Cells run concurrently: a prediction mostly waits on the index.

Every kind of depset is read into one requirement list, on the host:

- ``pip``: as written.
- ``requirements`` files: read as pip reads them (``-r`` includes, ``-c`` constraints
  passed to pip, index options); hashes dropped; editable, local and URL lines named in
  the notes and not predicted.
- ``lockfile``: every pin of the export (``model.lockfiles``), its markers evaluated for
  the base (not the host), hashes dropped.
- ``project``: its dependencies (and selected extras) from metadata pip builds on the
  host (its build backend runs here: noted); with a lock file the project is installed
  ``--no-deps``, so the pins are the prediction. The project itself is built on the base
  and is not predicted.

Used by ``harness preflight`` and by a run's prepare stage (``settings.preflight``), whose
predictions ``attach_predictions`` puts next to what the install really did.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import BaseModel, ConfigDict, ValidationError

from harness.model.errors import ConfigurationError
from harness.model.lockfiles import export_lockfile
from harness.model.matrix import Cell, DepsetSpec, Matrix, Settings
from harness.run.cell import ca_bundle_path
from harness.run.preflight import (
    DEFAULT_TIMEOUT_S,
    BaseFacts,
    CellPrediction,
    CellPredictionJSON,
    IndexOptions,
    compare_with_install,
    project_metadata,
    run_preflight,
)

DEFAULT_JOBS = 4
Predict = Callable[..., CellPrediction]

# pip_args that change where pip looks; every other argument is left to the real install.
_VALUE_OPTIONS = {
    "--index-url": "index_url",
    "-i": "index_url",
    "--extra-index-url": "extra_index_urls",
    "--find-links": "find_links",
    "-f": "find_links",
    "--trusted-host": "trusted_hosts",
}


@dataclass
class _IndexArgs:
    """The index options gathered so far, in IndexOptions' terms."""

    index_url: str | None
    extra_index_urls: list[str]
    find_links: list[str]
    trusted_hosts: list[str] = field(default_factory=list)
    no_index: bool = False


def index_options(settings: Settings, matrix_dir: Path, pip_args: Sequence[str]) -> IndexOptions:
    """The index options a cell's pip install gets: the settings', then the depset's own.

    Wheelhouses are resolved like the cell's mounts (relative to the matrix, missing
    folders skipped), so the prediction sees the same files the install will.
    """
    found = _IndexArgs(
        index_url=settings.index_url,
        extra_index_urls=list(settings.extra_index_urls),
        find_links=[
            str(path)
            for path in ((matrix_dir / p).resolve() for p in settings.wheelhouses)
            if path.is_dir()
        ],
    )
    _add_pip_args(found, list(pip_args), matrix_dir)
    return IndexOptions(
        index_url=found.index_url,
        extra_index_urls=tuple(found.extra_index_urls),
        find_links=tuple(found.find_links),
        trusted_hosts=tuple(found.trusted_hosts),
        no_index=found.no_index,
    )


def _add_pip_args(found: _IndexArgs, args: list[str], matrix_dir: Path) -> None:
    position = 0
    while position < len(args):
        option, _, inline = args[position].partition("=")
        if option == "--no-index":
            found.no_index = True
        elif option in _VALUE_OPTIONS:
            value = inline or (args[position + 1] if position + 1 < len(args) else "")
            position += 0 if inline else 1
            key = _VALUE_OPTIONS[option]
            if key == "find_links" and "://" not in value:
                value = str((matrix_dir / value).resolve())
            if key == "index_url":
                found.index_url = value
            else:
                getattr(found, key).append(value)
        position += 1


class _Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _EnvState(_Lenient):
    status: str | None = None
    error: str | None = None


class _BaseState(_Lenient):
    """What the preflight reads of a base record (engine/bases.py's dict, prepare.json)."""

    status: str | None = None
    reason: str | None = None
    env: dict[str, object] | None = None  # the env probe's output: BaseFacts reads it


def base_facts(base: Mapping[str, object]) -> tuple[BaseFacts | None, str | None]:
    """The base's facts from its env probe, or why there are none (the base is not had)."""
    try:
        record = _BaseState.model_validate(base)
        env = _EnvState.model_validate(record.env or {})
    except ValidationError as err:
        return None, f"the base's record is not readable ({err.errors()[0]['msg']})"
    if record.status != "available":
        return None, f"base unavailable: {record.reason or 'not resolved'}"
    if record.env is None or env.status != "passed":
        problem = env.error if record.env is not None else None
        return None, f"the base's env probe gave no facts ({problem or 'not run'})"
    try:
        return BaseFacts.from_env_probe(record.env), None
    except ValueError as exc:
        return None, f"the base's env probe gave no usable facts ({exc})"


class CellForecastJSON(TypedDict):
    """One entry of preflight.json's and prepare.json's ``preflight``."""

    id: str
    base: str
    depset: str
    requirements: list[str]
    prediction: CellPredictionJSON | None
    unavailable: str | None


@dataclass(frozen=True)
class CellForecast:
    """One cell's preflight: the prediction, or why none could be made."""

    cell_id: str
    base: str
    depset: str
    requirements: tuple[str, ...]
    prediction: CellPrediction | None
    unavailable: str | None = None

    def to_dict(self) -> CellForecastJSON:
        return {
            "id": self.cell_id,
            "base": self.base,
            "depset": self.depset,
            "requirements": list(self.requirements),
            "prediction": self.prediction.to_dict() if self.prediction else None,
            "unavailable": self.unavailable,
        }


def has_python_requirements(depset: DepsetSpec) -> bool:
    return bool(depset.pip or depset.requirements or depset.lockfile or depset.project)


def predict_cells(
    matrix: Matrix,
    cells: Sequence[Cell],
    bases: Mapping[str, Mapping[str, object]],
    *,
    jobs: int = DEFAULT_JOBS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    predict: Predict = run_preflight,
    python: str = sys.executable,
) -> list[CellForecast]:
    """A forecast for every cell with Python requirements (any depset kind), in order.

    Cells asking the same base for the same requirements share one prediction.
    """
    settings = matrix.settings
    cert_path = ca_bundle_path(settings, matrix.path.parent)
    cert = str(cert_path) if cert_path else None
    with_python = [c for c in cells if has_python_requirements(matrix.spec.depsets[c.depset])]
    # Each depset's files are read (and a project's metadata built) once, for every base.
    requests = {
        name: depset_request(matrix, name, timeout_s=timeout_s, cert=cert, python=python)
        for name in dict.fromkeys(c.depset for c in with_python)
    }
    # One job per distinct (facts, requirements, options); a str is why there is none.
    jobs_for: dict[str, _Job | str] = {}
    for cell in with_python:
        depset, request = matrix.spec.depsets[cell.depset], requests[cell.depset]
        facts, problem = base_facts(bases.get(cell.base) or {"reason": "not resolved"})
        if request.problem or facts is None:
            jobs_for[cell.id] = str(request.problem or problem)
            continue
        options = index_options(settings, matrix.path.parent, [*depset.pip_args, *request.options])
        options = replace(options, constraints=request.constraints)
        requirements = tuple(request.for_base(facts))
        jobs_for[cell.id] = (
            _Job(facts, requirements, options)
            if requirements
            else "every requirement is local, a URL or excluded by its marker on this base"
        )
    unique = list(dict.fromkeys(j for j in jobs_for.values() if isinstance(j, _Job)))

    def one(job: _Job) -> CellPrediction:
        return predict(job.facts, list(job.requirements), job.options, timeout_s, cert=cert)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        answers = dict(zip(unique, pool.map(one, unique), strict=True))
    forecasts = []
    for cell in with_python:
        job, request = jobs_for[cell.id], requests[cell.depset]
        if isinstance(job, _Job):
            answer = answers[job]
            prediction = replace(answer, notes=(*request.notes, *answer.notes))
            forecasts.append(
                CellForecast(cell.id, cell.base, cell.depset, job.requirements, prediction)
            )
        else:
            requirements = tuple(matrix.spec.depsets[cell.depset].pip)
            forecasts.append(CellForecast(cell.id, cell.base, cell.depset, requirements, None, job))
    return forecasts


@dataclass(frozen=True)
class _Job:
    facts: BaseFacts
    requirements: tuple[str, ...]
    options: IndexOptions


class _StoredForecast(_Lenient):
    """One entry of prepare.json's ``preflight`` (``CellForecast.to_dict()``)."""

    prediction: dict[str, object] | None = None  # CellPrediction.to_dict(): kept as written


class _CellDistributions(_Lenient):
    id: str = ""
    distributions: list[dict[str, object]] | None = None


def attach_predictions(
    cells: Sequence[MutableMapping[str, object]], forecasts: Mapping[str, Mapping[str, object]]
) -> None:
    """Put each cell's prediction (``preflight``) and where its install contradicted it
    (``preflight_mismatches``) into the cell records (plain dicts, as merge writes them),
    in place.

    Mismatches are judged only from the distributions pip really installed: a cell whose
    install did not finish has none to judge, so its list stays empty.
    """
    if not forecasts:  # no preflight in this run: the cells are not read at all
        return
    for cell in cells:
        record = _CellDistributions.model_validate(cell)
        forecast = forecasts.get(record.id)
        stored = _StoredForecast.model_validate(forecast) if forecast else _StoredForecast()
        if not stored.prediction:
            continue
        predicted = CellPrediction.from_dict(stored.prediction)
        cell["preflight"] = stored.prediction
        mismatches = compare_with_install(predicted, record.distributions or [])
        cell["preflight_mismatches"] = [m.to_dict() for m in mismatches]


# -- what a depset asks pip for, from each of its kinds ------------------------------------

_OPTION_WITH_VALUE = {
    "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "--trusted-host", "-e", "--editable",
}  # fmt: skip
_COMMENT = re.compile(r"(^|\s)#.*$")
_HASH = re.compile(r"\s--hash[=\s]\S+")
_LOCAL = re.compile(r"^(?:\.|/|~|file:)|://| @ ")


@dataclass(frozen=True)
class DepsetRequest:
    """What a depset's cell asks pip for, host-side: the depset's own ``pip`` list (kept as
    written) and the lines read from its requirements files, lock file and project (their
    markers are evaluated for each base), the index options those files add, and notes.
    ``problem`` is why the depset cannot be predicted at all."""

    literal: tuple[str, ...] = ()
    marked: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # pip options found in requirements files
    constraints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    problem: str | None = None
    extras: tuple[str, ...] = ()  # the project's extras its markers are evaluated with

    def for_base(self, facts: BaseFacts) -> list[str]:
        """The requirements for one base: marked lines whose marker holds, without it."""
        environments = [{**facts.marker_environment(), "extra": e} for e in ("", *self.extras)]
        kept = list(self.literal)
        for line in self.marked:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                kept.append(line)
                continue
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate(env) for env in environments):
                continue
            requirement.marker = None
            kept.append(str(requirement))
        return list(dict.fromkeys(kept))


def read_requirements_file(path: Path, seen: frozenset[Path] = frozenset()) -> DepsetRequest:
    """A requirements file as pip reads it: ``-r`` includes (relative to the including
    file), ``-c`` constraints, index options; hashes are dropped (pip refuses ``--hash``
    outside a file, and a dry run downloads nothing to check). Editable, local and URL
    requirements are left out and named."""
    if path in seen:
        return DepsetRequest()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        return DepsetRequest(problem=f"{path}: cannot be read ({err.strerror or err})")
    parts = []
    for raw in text.replace("\\\n", " ").splitlines():
        line = _COMMENT.sub("", raw).strip()
        if line:
            parts.append(_requirements_line(path, line, seen))
    return merge(parts)


def _requirements_line(path: Path, line: str, seen: frozenset[Path]) -> DepsetRequest:
    """One logical line of a requirements file, as a fragment of the request."""
    words = line.split()
    option, _, inline = words[0].partition("=")
    value = inline or (words[1] if len(words) > 1 else "")
    if option in ("-r", "--requirement"):
        return read_requirements_file((path.parent / value).resolve(), seen | {path})
    if option in ("-c", "--constraint"):
        return DepsetRequest(constraints=(str((path.parent / value).resolve()),))
    if option in ("-e", "--editable") or (not option.startswith("-") and _LOCAL.search(line)):
        return DepsetRequest(notes=(f"{path.name}: {line} is local or a URL: not predicted",))
    if option in ("-f", "--find-links") and "://" not in value:
        return DepsetRequest(options=(option, str((path.parent / value).resolve())))
    if option in _OPTION_WITH_VALUE:
        return DepsetRequest(options=(option, value))
    if option == "--no-index":
        return DepsetRequest(options=(option,))
    if option.startswith("-"):
        return DepsetRequest(notes=(f"{path.name}: option {option} is not used by the prediction",))
    return DepsetRequest(marked=(_HASH.sub("", line).strip(),))


def merge(parts: Sequence[DepsetRequest]) -> DepsetRequest:
    """Fragments in order; the first problem wins (the rest is then not predicted)."""
    problem = next((p.problem for p in parts if p.problem), None)
    if problem:
        return DepsetRequest(problem=problem)
    return DepsetRequest(
        literal=tuple(x for p in parts for x in p.literal),
        marked=tuple(x for p in parts for x in p.marked),
        options=tuple(x for p in parts for x in p.options),
        constraints=tuple(dict.fromkeys(x for p in parts for x in p.constraints)),
        notes=tuple(dict.fromkeys(x for p in parts for x in p.notes)),
        extras=tuple(x for p in parts for x in p.extras),
    )


def depset_request(
    matrix: Matrix, name: str, *, timeout_s: float, cert: str | None, python: str
) -> DepsetRequest:
    """Everything a depset's pip step installs, read on the host (see ``DepsetRequest``)."""
    depset = matrix.spec.depsets[name]
    home = matrix.path.parent
    parts = [DepsetRequest(literal=tuple(depset.pip))]
    for value in depset.requirements:
        read = read_requirements_file((home / value).resolve())
        note = (
            f"{value}: {len(read.marked)} requirement(s) with its includes, "
            f"{len(read.constraints)} constraints file(s) passed to pip"
        )
        parts.append(replace(read, notes=(note, *read.notes)))
    if depset.lockfile:
        try:
            export = export_lockfile((home / depset.lockfile).resolve())
        except ConfigurationError as err:
            return DepsetRequest(problem=f"lockfile: {err.what}")
        pins = tuple(line.split(" --hash=", 1)[0].strip() for line in export.lines)
        skipped = [f"{export.kind}: {', '.join(export.skipped)} not from an index: not predicted"]
        notes = (
            f"every pin of {depset.lockfile} ({len(pins)}), markers evaluated for the base",
            *(skipped if export.skipped else []),
        )
        parts.append(DepsetRequest(marked=pins, notes=notes))
    if depset.project:
        parts.append(_project_request(depset, home, timeout_s=timeout_s, cert=cert, python=python))
    return merge(parts)


def _project_request(
    depset: DepsetSpec, home: Path, *, timeout_s: float, cert: str | None, python: str
) -> DepsetRequest:
    """The project's own dependencies (with its extras), from metadata built on the host;
    with a lock file the project is installed ``--no-deps``, so only the pins count."""
    assert depset.project is not None
    folder = (home / depset.project.path).resolve()
    built = f"the project {depset.project.path} itself is built on the base, not predicted"
    if depset.lockfile:
        return DepsetRequest(notes=(f"{built} (installed --no-deps after the lock file's pins)",))
    try:
        name, requires = project_metadata(str(folder), timeout_s, python=python, cert=cert)
    except ValueError as err:
        return DepsetRequest(
            problem=f"the project's metadata could not be built on the host: {err}"
        )
    note = f"dependencies of {name or depset.project.path} from metadata built on the host"
    return DepsetRequest(
        marked=tuple(requires), notes=(note, built), extras=tuple(depset.project.extras)
    )
