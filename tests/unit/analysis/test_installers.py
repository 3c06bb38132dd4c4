"""pip vs uv on one base × depset: install times under the noise rule, and what resolved
differently. Results are built here, field by field, as run/cell.py writes them."""

from __future__ import annotations

from harness.analysis.installers import (
    fairness_note,
    installer_pairs,
)
from tests.unit.builders import cells_results as results
from tests.unit.builders import installer_record as record


def test_one_sample_each_gives_a_ratio_but_no_faster_call() -> None:
    run = results(
        record("py311×spacy", 40.0),
        record("py311×spacy+uv", 10.0, versions={"spacy": "3.8.18", "numpy": "2.4.5"}),
        record("py311×ffmpeg", 1.0),  # no uv twin: not a pair
    )
    (pair,) = installer_pairs(run)
    assert (pair.base, pair.depset) == ("py311", "spacy")
    assert pair.pip.version == "23.0.1" and pair.other.version == "0.13.9"
    assert pair.ratio == 0.25
    assert pair.install.a is not None and pair.install.a.median == 43.0  # venv + pip step
    assert pair.step.delta is not None and not pair.step.delta.claimable
    assert "one sample, noise unknown" in pair.verdict and "faster" not in pair.verdict
    assert "1 distribution(s) resolved to another version" in pair.verdict
    (diff,) = pair.version_differences
    assert (diff.name, diff.a, diff.b) == ("numpy", "2.4.6 wheel", "2.4.5 wheel")
    assert pair.same_distributions == 1


def test_with_repeats_a_difference_beyond_noise_is_called() -> None:
    run = results(
        *(record("b×d", s, repeat=i) for i, s in enumerate((40.0, 42.0, 41.0))),
        *(record("b×d+uv", s, repeat=i) for i, s in enumerate((10.0, 11.0, 10.5))),
    )
    (pair,) = installer_pairs(run)
    assert pair.verdict.startswith("installs with both; uv faster by 30.5 ± 1.5 s")
    assert pair.verdict.endswith("same versions")


def test_a_failing_side_is_a_status_verdict() -> None:
    run = results(
        record("b×d", 40.0),
        record("b×d+uv", 2.0, status="failed", reason="uv-install: no-compiler"),
    )
    (pair,) = installer_pairs(run)
    assert pair.verdict == "breaks with uv failed (uv-install: no-compiler)"
    assert pair.distributions == ()


def test_filters_and_the_fairness_note() -> None:
    run = results(record("a×d", 4.0), record("a×d+uv", 1.0), record("b×d", 4.0),
                  record("b×d+uv", 1.0))  # fmt: skip
    assert [p.base for p in installer_pairs(run, bases=["b"])] == ["b"]
    assert installer_pairs(run, depsets=["other"]) == []
    note = " ".join(fairness_note(run))
    for words in ("--no-cache", "--compile-bytecode", "CA bundle", "unsafe-best-match", "0.13.9"):
        assert words in note
    assert fairness_note(results(record("a×d", 4.0))) == []
