"""analysis.metrics: what one cell record measured, and the kind of each wheel."""

from __future__ import annotations

import pytest

from harness.analysis.metrics import (
    classify_tag,
    import_seconds,
    install_complete,
    smoke_seconds,
    sum_steps,
)
from harness.model.errors import ResultsError
from harness.model.results import CellRecord, Probes


@pytest.mark.parametrize(
    ("wheel", "tag", "kind"),
    [
        (True, "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", "manylinux"),
        (True, "cp313-cp313-musllinux_1_2_x86_64", "musllinux"),
        (True, "cp39-abi3-manylinux_2_28_x86_64", "abi3 manylinux"),
        (True, "py3-none-any", "py3-none-any"),
        (True, "py2.py3-none-any", "py3-none-any"),
        (True, "cp311-cp311-linux_x86_64", "linux (not portable)"),
        (True, "cp312-cp312-macosx_11_0_arm64", "macosx"),
        (True, "cp312-cp312-win_amd64", "win"),
        (True, "not-a-tag-at-all", "not-a-tag-at-all"),
        (False, None, "sdist-built"),
        (True, None, "unknown"),
    ],
)
def test_classify_tag(wheel: bool, tag: str | None, kind: str) -> None:
    assert classify_tag(wheel, tag) == kind


def test_import_time_is_the_sum_of_the_modules_and_smoke_time_the_probes_own() -> None:
    probes = Probes.from_dict(
        {
            "imports": {
                "status": "passed",
                "seconds": 9.0,
                "modules": {"a": {"seconds": 0.25}, "b": {"seconds": 0.5}},
            },
            "smoke_x": {"status": "passed", "seconds": 2.0},
            "smoke_y": {"status": "passed"},  # no time of its own
        }
    )
    assert import_seconds(probes) == 0.75
    assert smoke_seconds(probes) == 2.0
    assert import_seconds(Probes()) is None and smoke_seconds(Probes()) is None


def test_without_an_imports_probe_the_smoke_probes_import_times_count() -> None:
    smoke = {"status": "passed", "import_time": {"torch": {"seconds": 1.5}, "numpy": 0.5}}
    assert import_seconds(Probes.from_dict({"smoke_torch": smoke})) == 2.0


def test_a_free_form_seconds_is_refused_on_reading_never_a_timing() -> None:
    with pytest.raises(ResultsError, match=r"smoke_y\.seconds"):
        Probes.from_dict({"smoke_y": {"status": "passed", "seconds": "soon"}})


def test_install_steps_add_up_by_kind_or_name() -> None:
    record = CellRecord.from_dict(
        {
            "id": "b×d",
            "base": "b",
            "depset": "d",
            "status": "passed",
            "steps": [
                {"name": "venv", "kind": "install", "status": "passed", "seconds": 3.0},
                {"name": "pip-install", "kind": "install", "status": "passed", "seconds": 7.0},
                {"name": "probe:env", "kind": "probe", "status": "passed", "seconds": 0.1},
            ],
        }
    )
    assert sum_steps(record.steps, kind="install") == 10.0
    assert sum_steps(record.steps, name="venv") == 3.0
    assert sum_steps(record.steps, name="system-packages") is None
    assert install_complete(record)
    failed = record.model_copy(update={"status": "unavailable"})
    assert not install_complete(failed)
