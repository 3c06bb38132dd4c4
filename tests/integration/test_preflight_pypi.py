"""Preflight predictions against the real PyPI (field notes: torch has no musl build,
spaCy has musllinux wheels for CPython 3.13, openai-whisper is an sdist everywhere)."""

from __future__ import annotations

import pytest

from harness.run.preflight import BaseFacts, run_preflight

pytestmark = [
    pytest.mark.integration,
    pytest.mark.network,
    pytest.mark.usefixtures("pypi_reachable"),
]

MUSL_313 = BaseFacts("3.13.15", "cp", "cp313", "musl", "1.2.6", "x86_64")
GLIBC_311 = BaseFacts("3.11.2", "cp", "cp311", "glibc", "2.36", "x86_64")


def test_torch_cannot_install_on_musl() -> None:
    prediction = run_preflight(MUSL_313, ["torch"], timeout_s=120)
    assert prediction.status == "impossible", prediction.verdict
    assert prediction.verdict == "cannot install: no distribution of torch for this platform"


def test_spacy_installs_from_musllinux_wheels() -> None:
    prediction = run_preflight(MUSL_313, ["spacy"], timeout_s=300)
    assert prediction.verdict == "will install from wheels", prediction.notes
    spacy = next(p for p in prediction.distributions if p.name == "spacy")
    assert spacy.requested and "musllinux_1_" in str(spacy.wheel_tag)
    assert not any("manylinux" in str(p.wheel_tag) for p in prediction.distributions)


def test_whisper_needs_a_build_from_source() -> None:
    prediction = run_preflight(GLIBC_311, ["openai-whisper"], timeout_s=300)
    assert prediction.status == "build", prediction.verdict
    assert prediction.verdict == "needs a build from source of openai-whisper"
    names = {p.name: p.kind for p in prediction.distributions}
    assert names["openai-whisper"] == "sdist" and names["torch"] == "wheel"
