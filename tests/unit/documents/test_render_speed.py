"""Speed ratios between two pybench outputs, and the noise rule."""

from __future__ import annotations

from typing import Any

from harness.analysis.speed import (
    NOISE_RULE,
    speed_table,
)
from harness.documents.speed import render_speed_markdown, speed_cell
from harness.model.results import BaseRecord
from tests.unit.builders import pybench_output as output


def base(name: str, speed: dict[str, Any] | None, standin: str | None = None) -> BaseRecord:
    record = {"name": name, "status": "available", "standin": standin, "interpreter_speed": speed}
    return BaseRecord.from_dict(record)


def with_build(output_: dict[str, Any], pgo: bool, lto: bool) -> dict[str, Any]:
    return {**output_, "build": {"pgo": pgo, "lto": lto}, "python": {"version": "3.13.15"}}


def test_speed_table_uses_the_first_measured_base_as_baseline() -> None:
    glibc = with_build(output(loops=(0.040, 0.02)), pgo=False, lto=False)
    musl = with_build(output(loops=(0.060, 0.02)), pgo=True, lto=False)
    table = speed_table(
        [
            BaseRecord(name="missing", status="unavailable"),  # never had: not a row
            base("broken", {"status": "timeout", "error": "pybench did not finish"}),
            base("glibc", glibc, standin="stand-in: Debian's python3.11"),
            base("musl", musl, standin="stand-in: CPython compiled here"),
        ]
    )
    assert table.baseline == "glibc"
    assert [row.base for row in table.bases] == ["broken", "glibc", "musl"]
    broken, reference, candidate = table.bases
    assert broken.status == "timeout" and broken.note == "pybench did not finish"
    assert reference.ratios == () and reference.build == "PGO and LTO not recorded"
    assert candidate.verdicts["loops"] == "1.50× slower"
    assert candidate.build == "PGO recorded; LTO not recorded"
    assert speed_cell(candidate, "loops") == "60.0 ms (1.50× slower)"
    assert speed_cell(reference, "loops") == "40.0 ms"
    assert [row.base for row in table.standins] == ["glibc", "musl"]
    assert table.measurements == ("startup.bare", "loops")


def test_markdown_shows_ratios_rule_and_standin_note() -> None:
    table = speed_table(
        [
            base("glibc", output(loops=(0.040, 0.02)), standin="Debian's python3.11"),
            base("musl", output(loops=(0.100, 0.02))),
        ]
    )
    text = "\n".join(render_speed_markdown(table))
    assert "| glibc (baseline) |" in text and "100.0 ms (2.50× slower)" in text
    assert NOISE_RULE in text and "**Stand-in builds.**" in text
    assert "- glibc: Debian's python3.11" in text and "- musl:" not in text
    assert "without PGO or LTO" in text  # the musl stand-in's build, said plainly
    assert render_speed_markdown(speed_table([])) == []


def test_the_noise_rule_follows_medians_as_a_sentence_of_its_own() -> None:
    table = speed_table(
        [base("a", output(loops=(0.04, 0.02))), base("b", output(loops=(0.05, 0.02)))]
    )
    text = "\n".join(render_speed_markdown(table))
    assert f"Medians. {NOISE_RULE}" in text and "Medians; A" not in text
