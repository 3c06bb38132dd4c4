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
