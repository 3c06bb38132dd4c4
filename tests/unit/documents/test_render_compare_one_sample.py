"""A single measurement has unknown noise: compare never writes "± 0" or calls it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from harness.analysis.compare import compare_bases
from harness.documents.compare import render_comparison_markdown
from harness.store.rundir import load_results

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1.json"


def test_one_sample_each_makes_no_beyond_noise_claim() -> None:
    results: dict[str, Any] = copy.deepcopy(load_results(FIXTURE))  # the JSON, edited
    slow = next(c for c in results["cells"] if c["id"] == "py313-slim×ffmpeg")
    for step in slow["steps"]:
        if step["kind"] == "install":
            step["seconds"] = float(step["seconds"]) + 30.0
    text = render_comparison_markdown(compare_bases(results, "py311-slim", "py313-slim"))
    assert "± 0.00" not in text
    assert "beyond noise" not in text.split("deltas are")[-1].split("\n", 1)[-1]
    assert "one sample, noise unknown" in text
    assert "slower on" not in text and "faster on" not in text
