"""The preflight of a matrix: every selected cell's pip requirements predicted for its base.

``run.preflight`` predicts one requirement list for one set of base facts; this module
feeds it a matrix: the facts come from each resolved base's env probe (cached by image id,
never guessed from the base's name), the index options from the matrix's settings (its
wheelhouses, so the CPU torch in /opt/wheels is seen, and its indexes) and the depset's
``pip_args``. Cells run concurrently: a prediction mostly waits on the index.

Used by ``harness preflight`` and by a run's prepare stage (``settings.preflight``), whose
predictions ``attach_predictions`` puts next to what the install really did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.model.matrix import Cell, Matrix, Settings
from harness.run.cell import ca_bundle_path
from harness.run.preflight import (
    DEFAULT_TIMEOUT_S,
    BaseFacts,
    CellPrediction,
    IndexOptions,
    compare_with_install,
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


def index_options(settings: Settings, matrix_dir: Path, pip_args: Sequence[str]) -> IndexOptions:
    """The index options a cell's pip install gets: the settings', then the depset's own.

    Wheelhouses are resolved like the cell's mounts (relative to the matrix, missing
    folders skipped), so the prediction sees the same files the install will.
    """
    found: dict[str, Any] = {
        "index_url": settings.index_url,
        "extra_index_urls": list(settings.extra_index_urls),
        "find_links": [
            str(path)
            for path in ((matrix_dir / p).resolve() for p in settings.wheelhouses)
            if path.is_dir()
        ],
        "trusted_hosts": [],
        "no_index": False,
    }
    _add_pip_args(found, list(pip_args), matrix_dir)
    return IndexOptions(
        index_url=found["index_url"],
        extra_index_urls=tuple(found["extra_index_urls"]),
        find_links=tuple(found["find_links"]),
        trusted_hosts=tuple(found["trusted_hosts"]),
        no_index=found["no_index"],
    )


def _add_pip_args(found: dict[str, Any], args: list[str], matrix_dir: Path) -> None:
    position = 0
    while position < len(args):
        option, _, inline = args[position].partition("=")
        if option == "--no-index":
            found["no_index"] = True
        elif option in _VALUE_OPTIONS:
            value = inline or (args[position + 1] if position + 1 < len(args) else "")
            position += 0 if inline else 1
            key = _VALUE_OPTIONS[option]
            if key == "find_links" and "://" not in value:
                value = str((matrix_dir / value).resolve())
            if key == "index_url":
                found[key] = value
            else:
                found[key].append(value)
        position += 1


def base_facts(base: Mapping[str, Any]) -> tuple[BaseFacts | None, str | None]:
    """The base's facts from its env probe, or why there are none (the base is not had)."""
    if base.get("status") != "available":
        return None, f"base unavailable: {base.get('reason') or 'not resolved'}"
    env = base.get("env")
    if not isinstance(env, Mapping) or env.get("status") != "passed":
        problem = (env or {}).get("error") if isinstance(env, Mapping) else None
        return None, f"the base's env probe gave no facts ({problem or 'not run'})"
    try:
        return BaseFacts.from_env_probe(env), None
    except ValueError as exc:
        return None, f"the base's env probe gave no usable facts ({exc})"


@dataclass(frozen=True)
class CellForecast:
    """One cell's preflight: the prediction, or why none could be made."""

    cell_id: str
    base: str
    depset: str
    requirements: tuple[str, ...]
    prediction: CellPrediction | None
    unavailable: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.cell_id,
            "base": self.base,
            "depset": self.depset,
            "requirements": list(self.requirements),
            "prediction": self.prediction.to_dict() if self.prediction else None,
            "unavailable": self.unavailable,
        }


def predict_cells(
    matrix: Matrix,
    cells: Sequence[Cell],
    bases: Mapping[str, Mapping[str, Any]],
    *,
    jobs: int = DEFAULT_JOBS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    predict: Predict = run_preflight,
) -> list[CellForecast]:
    """A forecast for every cell with pip requirements, in the cells' order.

    Cells asking the same base for the same requirements share one prediction.
    """
    settings = matrix.settings
    cert_path = ca_bundle_path(settings, matrix.path.parent)
    cert = str(cert_path) if cert_path else None
    # One job per distinct (facts, requirements, options); a str is why there is none.
    jobs_for: dict[str, _Job | str] = {}
    with_pip = [c for c in cells if matrix.spec.depsets[c.depset].pip]
    for cell in with_pip:
        depset = matrix.spec.depsets[cell.depset]
        facts, problem = base_facts(bases.get(cell.base) or {"reason": "not resolved"})
        options = index_options(settings, matrix.path.parent, depset.pip_args)
        jobs_for[cell.id] = _Job(facts, tuple(depset.pip), options) if facts else str(problem)
    unique = list(dict.fromkeys(j for j in jobs_for.values() if isinstance(j, _Job)))

    def one(job: _Job) -> CellPrediction:
        return predict(job.facts, list(job.requirements), job.options, timeout_s, cert=cert)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        answers = dict(zip(unique, pool.map(one, unique), strict=True))
    forecasts = []
    for cell in with_pip:
        job = jobs_for[cell.id]
        requirements = tuple(matrix.spec.depsets[cell.depset].pip)
        prediction, why_not = (answers[job], None) if isinstance(job, _Job) else (None, job)
        forecasts.append(
            CellForecast(cell.id, cell.base, cell.depset, requirements, prediction, why_not)
        )
    return forecasts


@dataclass(frozen=True)
class _Job:
    facts: BaseFacts
    requirements: tuple[str, ...]
    options: IndexOptions


def attach_predictions(
    cells: Sequence[dict[str, Any]], forecasts: Mapping[str, Mapping[str, Any]]
) -> None:
    """Put each cell's prediction (``preflight``) and where its install contradicted it
    (``preflight_mismatches``) into the cell records, in place.

    Mismatches are judged only from the distributions pip really installed: a cell whose
    install did not finish has none to judge, so its list stays empty.
    """
    for cell in cells:
        forecast = forecasts.get(str(cell.get("id")))
        prediction = (forecast or {}).get("prediction")
        if not prediction:
            continue
        predicted = CellPrediction.from_dict(prediction)
        cell["preflight"] = prediction
        mismatches = compare_with_install(predicted, cell.get("distributions") or [])
        cell["preflight_mismatches"] = [m.to_dict() for m in mismatches]
