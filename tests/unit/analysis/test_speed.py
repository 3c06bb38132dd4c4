"""Speed ratios between two pybench outputs, and the noise rule."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis.speed import (
    NOISE_FLOOR,
    NOISE_RULE,
    SpeedRatio,
    speed_ratios,
    speed_table,
    verdict,
)
from harness.model.results import BaseRecord, InterpreterSpeed
from tests.unit.builders import pybench_output as output


def ratios_of(baseline: dict[str, Any], candidate: dict[str, Any]) -> list[SpeedRatio]:
    """speed_ratios of two pybench outputs as results.json holds them."""
    return speed_ratios(InterpreterSpeed.from_dict(baseline), InterpreterSpeed.from_dict(candidate))


def by_name(baseline: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    return {r.workload: r for r in ratios_of(baseline, candidate)}


def test_clear_differences_in_both_directions() -> None:
    ratios = by_name(
        output(loops=(0.040, 0.02), regex=(0.030, 0.02)),
        output(loops=(0.080, 0.02), regex=(0.012, 0.03)),
    )
    assert ratios["loops"].ratio == 2.0 and ratios["loops"].verdict == "2.00× slower"
    assert ratios["regex"].ratio == 0.4 and ratios["regex"].verdict == "2.50× faster"
    assert ratios["regex"].noise == pytest.approx(NOISE_FLOOR)


def test_small_differences_fall_under_the_floor() -> None:
    ratios = by_name(output(loops=(0.100, 0.0)), output(loops=(0.104, 0.0)))
    assert ratios["loops"].verdict == "no difference"
    assert ratios["startup.bare"].verdict == "no difference"


def test_noise_is_the_larger_spread_of_the_two_runs() -> None:
    ratios = by_name(output(loops=(0.100, 0.05)), output(loops=(0.125, 0.30)))
    assert ratios["loops"].noise == 0.30
    assert ratios["loops"].verdict == "no difference"
    ratios = by_name(output(loops=(0.100, 0.05)), output(loops=(0.135, 0.30)))
    assert ratios["loops"].verdict == "1.35× slower"


def test_outputs_without_iqr_use_the_full_range() -> None:
    baseline = output(loops=(0.100, 0.0))
    candidate = output(loops=(0.150, 0.0))
    del candidate["workloads"]["loops"]["rel_iqr"]
    candidate["workloads"]["loops"]["rel_spread"] = 0.6
    assert by_name(baseline, candidate)["loops"].verdict == "no difference"


def test_only_common_measurements_are_compared() -> None:
    ratios = by_name(output(loops=(0.1, 0.0), extra=(0.1, 0.0)), output(loops=(0.1, 0.0)))
    assert sorted(ratios) == ["loops", "startup.bare"]


def test_runs_of_different_work_or_failed_runs_are_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        ratios_of(output(1.0, loops=(0.1, 0.0)), output(0.5, loops=(0.1, 0.0)))
    failed = {"status": "failed", "error": "boom"}
    with pytest.raises(ValueError, match="boom"):
        ratios_of(output(loops=(0.1, 0.0)), failed)


def test_verdict_and_rule_text() -> None:
    assert verdict(1.0, 0.05) == "no difference"
    assert verdict(0.9, 0.05) == "1.11× faster"
    assert "5 %" in NOISE_RULE
    assert (
        ratios_of(output(loops=(0.1, 0.0)), output(loops=(0.1, 0.0)))[0].to_dict()["verdict"]
        == "no difference"
    )


def base(name: str, speed: dict[str, Any] | None, standin: str | None = None) -> BaseRecord:
    record = {"name": name, "status": "available", "standin": standin, "interpreter_speed": speed}
    return BaseRecord.from_dict(record)


def test_speed_table_inside_the_noise_and_other_scales() -> None:
    noisy = speed_table(
        [base("a", output(loops=(0.040, 0.30))), base("b", output(loops=(0.048, 0.02)))],
        baseline="a",
    )
    assert noisy.bases[1].verdicts["loops"] == "no difference"  # 20 % inside a 30 % IQR
    other = speed_table(
        [base("a", output(loops=(0.04, 0.0))), base("b", output(scale=0.5, loops=(0.02, 0.0)))]
    )
    assert other.bases[1].ratios == () and "different scales" in str(other.bases[1].note)
    assert other.bases[1].spread == 0.02  # startup.bare's IQR is the widest


def test_a_dockerfile_built_on_a_standin_is_a_standin_build() -> None:
    standin = {"base": "py311-slim", "origin": "stand-in", "standin": "stand-in for python:3.11"}
    record = {
        "name": "team",
        "status": "available",
        "origin": "dockerfile",
        "reference": "Dockerfile",
        "base_args": {"BASE": standin},
        "interpreter_speed": output(loops=(0.04, 0.0)),
    }
    pulled = {
        **record,
        "name": "mine",
        "base_args": {"BASE": {"base": "py311", "origin": "pulled"}},
    }
    table = speed_table(
        [base("a", output(loops=(0.04, 0.0))), BaseRecord.from_dict(record),
         BaseRecord.from_dict(pulled)],
        baseline="a",
    )  # fmt: skip
    assert [row.base for row in table.standins] == ["team"]
    assert "FROM py311-slim (stand-in for python:3.11)" in str(table.standins[0].standin)
