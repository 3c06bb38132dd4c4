"""The smoke probes' workload figure (probes/_common.py ``workload``) and its typed record."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

from harness.model.results import Probes, Workload

PROBES = Path(__file__).resolve().parents[3] / "harness" / "probes"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"probes_{name}", PROBES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


common = load("_common")


def test_workload_keeps_the_values_and_their_median() -> None:
    figure = common.workload("encode", "x realtime", [30.0, 10.0, 20.0, math.nan], True)
    assert figure == {
        "what": "encode",
        "unit": "x realtime",
        "values": [30.0, 10.0, 20.0],
        "median": 20.0,
        "higher_is_better": True,
    }
    record = Workload.from_dict(figure)
    assert record.median == 20.0 and record.higher_is_better is True


def test_workload_without_values_has_no_median() -> None:
    assert common.workload("x", "ms", [], False)["median"] is None


def test_repeat_timed_warms_up_once_then_times_each_call() -> None:
    calls: list[int] = []
    seconds = common.repeat_timed(lambda: calls.append(1), repeats=4)
    assert len(calls) == 5 and len(seconds) == 4
    assert all(value >= 0 for value in seconds)


def test_a_smoke_probe_output_carries_its_workload_typed() -> None:
    output = {
        "status": "passed",
        "workload": common.workload("forward pass", "ms", [2.0, 3.0, 2.5], False),
    }
    probes = Probes.from_dict({"smoke_torch": output})
    found = probes.get("smoke_torch")
    assert found is not None and found.workload is not None
    assert found.workload.median == 2.5 and found.workload.unit == "ms"


def test_every_smoke_probe_reports_a_workload() -> None:
    for path in sorted(PROBES.glob("smoke_*.py")):
        text = path.read_text(encoding="utf-8")
        assert 'result["workload"] = ' in text, f"{path.name} reports no workload"
