"""harness preflight's printed lines: a verdict per cell, one line per distribution."""

from __future__ import annotations

from harness.cli.preflight_command import render_forecast, summary_line
from harness.run.forecast import CellForecast
from harness.run.preflight import CellPrediction, Prediction


def test_verdict_then_one_line_per_distribution() -> None:
    prediction = CellPrediction(
        "impossible",
        "cannot install: no distribution of torch for this platform",
        (
            Prediction("numpy", "2.3.1", "wheel", "cp313-cp313-musllinux_1_2_x86_64"),
            Prediction("openai-whisper", "20250625", "sdist", requested=True),
            Prediction("torch", None, "none", requested=True, reason="no distribution"),
        ),
        notes=("torch is needed by openai-whisper",),
        seconds=3.25,
        pip_runs=2,
    )
    forecast = CellForecast("alpine×whisper", "alpine", "whisper", ("x",), prediction)
    assert render_forecast(forecast).splitlines() == [
        "alpine×whisper: cannot install: no distribution of torch for this platform "
        "(3.2 s, 2 pip run(s))",
        "    numpy 2.3.1: wheel cp313-cp313-musllinux_1_2_x86_64",
        "  * openai-whisper 20250625: sdist (built from source)",
        "  * torch (version unknown): none: no distribution",
        "    note: torch is needed by openai-whisper",
    ]
    missing = CellForecast("gone×x", "gone", "x", ("x",), None, "base unavailable: not here")
    assert render_forecast(missing) == "gone×x: not predicted: base unavailable: not here"
    line = summary_line(4, [forecast, missing], 9.5)
    assert line == (
        "1 cell(s) predicted in 9.5 s, 1 not predicted (each line says why), "
        "2 without Python requirements"
    )


def test_a_base_in_preflight_json_has_its_fields_in_order() -> None:
    from harness.cli.preflight_command import _base_summary

    record = {"name": "b", "status": "available", "libc": {"family": "glibc"}, "size_bytes": 9}
    summary = _base_summary(record)
    assert list(summary) == ["name", "status", "reason", "standin", "image", "image_id",
                             "python", "libc"]  # fmt: skip
    assert summary["libc"] == {"family": "glibc"} and summary["reason"] is None
