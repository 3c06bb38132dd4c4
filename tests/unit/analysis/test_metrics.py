"""analysis.metrics: what one cell record measured, and the kind of each wheel."""

from __future__ import annotations

import pytest

from harness.analysis.metrics import classify_tag, import_seconds, smoke_seconds


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
    probes = {
        "imports": {
            "status": "passed",
            "seconds": 9.0,
            "modules": {"a": {"seconds": 0.25}, "b": 0.5},
        },
        "smoke_x": {"status": "passed", "seconds": 2.0},
        "smoke_y": {"status": "passed", "seconds": "soon"},  # free-form: not a timing
    }
    assert import_seconds(probes) == 0.75
    assert smoke_seconds(probes) == 2.0
    assert import_seconds({}) is None and smoke_seconds({}) is None
