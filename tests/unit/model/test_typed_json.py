"""The JSON shapes typed in place of free-form dicts keep results.json as it was."""

from __future__ import annotations

import pytest

from harness.model.errors import ResultsError
from harness.model.results import Sboms


def test_sboms_scanner_is_typed_and_round_trips() -> None:
    written = {"scanner": {"name": "trivy", "db": "/cache/trivy"}, "sboms": []}
    typed = Sboms.from_dict(written, "sbom/index.json")
    assert typed.scanner is not None and typed.scanner.name == "trivy"
    assert typed.to_dict() == written  # the same JSON back, key for key
    assert Sboms.from_dict({"scanner": None}).to_dict() == {"scanner": None}


def test_sboms_scanner_of_the_wrong_shape_is_refused_with_its_path() -> None:
    with pytest.raises(ResultsError, match=r"\$\.scanner\.name"):
        Sboms.from_dict({"scanner": {"name": 3}}, "sbom/index.json")


def test_parts_of_a_runs_json_are_validated_with_their_path() -> None:
    from harness.model.results import BaseRecord, RunInfo, part_of, parts_of

    data = {"run": {"id": "r"}, "bases": [{"name": "a"}, {"name": 3}], "depsets": "x"}
    run = part_of(data, "run", RunInfo)
    assert run is not None and run.id == "r"
    assert part_of(data, "sboms", RunInfo) is None  # absent: not written by this run
    assert parts_of({"bases": [{"name": "a"}]}, "bases", BaseRecord)[0].name == "a"
    with pytest.raises(ResultsError, match=r"results\.bases\[1\]"):
        parts_of(data, "bases", BaseRecord)
    with pytest.raises(ResultsError, match=r"results\.depsets: expected a list, found str"):
        parts_of(data, "depsets", BaseRecord)
    with pytest.raises(ResultsError, match=r"results\.run: expected a JSON object"):
        part_of({"run": [1]}, "run", RunInfo)
