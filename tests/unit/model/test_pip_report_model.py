"""pip's installation report read once into types (harness/model/pipreport.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.model.pipreport import PipReport, PipReportError
from harness.run import pipreport, preflight

METADATA = {"name": "six", "version": "1.17.0", "requires_dist": ["x; extra == 'y'"]}
ITEM = {
    "metadata": METADATA,
    "download_info": {
        "url": "https://files.example/six-1.17.0-py2.py3-none-any.whl",
        "archive_info": {"hash": "sha256=ab", "hashes": {"sha256": "ab"}},
    },
    "is_direct": False,
    "requested": True,
}


def test_unknown_keys_are_tolerated() -> None:
    text = json.dumps(
        {
            "version": "1",
            "pip_version": "26.1",
            "a_key_of_pip_27": {"anything": [1, 2]},
            "install": [{**ITEM, "is_yanked": False, "metadata": {**METADATA, "x": 1}}],
            "environment": {"python_version": "3.11", "platform_machine": "x86_64", "os": "l"},
        }
    )
    report = PipReport.from_json(text)
    (item,) = report.install
    assert (item.metadata.name, item.metadata.version, item.requested) == ("six", "1.17.0", True)
    assert item.download_info.filename == "six-1.17.0-py2.py3-none-any.whl"
    assert item.download_info.archive_info is not None and item.download_info.dir_info is None
    assert report.environment.python_version == "3.11" and report.pip_version == "26.1"


def test_missing_keys_take_their_defaults() -> None:
    report = PipReport.from_data({"install": [{"metadata": {"name": "bare"}}]})
    (item,) = report.install
    assert report.version is None and report.pip_version is None
    assert report.environment.python_version is None
    assert item.metadata.version is None and item.metadata.requires_dist == ()
    assert item.download_info.url == "" and not item.requested and not item.is_direct
    assert PipReport.from_data({}).install == ()
    # A version written as a number is still the documented "1".
    assert PipReport.from_data({"version": 1}).version == "1"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object, found list"),
        ('{"install": {"six": 1}}', "install"),
        ('{"install": [{"metadata": {"name": ["six"]}}]}', "install.0.metadata.name"),
        ('{"install": [{"requested": "maybe"}]}', "install.0.requested"),
    ],
)
def test_a_malformed_report_is_named_at_the_boundary(text: str, named: str) -> None:
    with pytest.raises(PipReportError, match="pip's report") as caught:
        PipReport.from_json(text)
    assert named in str(caught.value)
    assert "Traceback" not in str(caught.value) and "\n" not in str(caught.value)


def test_the_cells_reader_gets_no_report_for_a_malformed_one() -> None:
    # The cell runner's entry point: a report of another shape is no report (as text that
    # is not JSON always was), never an AttributeError in the middle of a cell.
    assert pipreport.parse_report('{"install": [{"metadata": "six"}]}') is None
    assert pipreport.parse_report(json.dumps({"version": "1", "install": [ITEM]})) is not None
    rows = pipreport.distributions({"install": [ITEM, {"metadata": {"name": "bare"}}]})
    assert [r["name"] for r in rows] == ["bare", "six"]
    assert rows[0]["source"] == "index" and rows[0]["family"] == "sdist"


def test_preflight_reads_the_typed_report() -> None:
    report = PipReport.from_data({"version": "1", "install": [ITEM]})
    (six,) = preflight.parse_report(report)
    assert (six.kind, six.wheel_tag, six.requested) == ("wheel", "py2.py3-none-any", True)
    assert preflight.declared_dependencies(report, "SIX") == []


def test_a_malformed_dry_run_report_makes_the_prediction_unknown(tmp_path: Path) -> None:
    # pip is replaced by a script that writes a report of the wrong shape: the cell's
    # prediction is "unknown" with the report named, and nothing raises.
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        'while [ "$1" != "--report" ]; do shift; done\n'
        'echo \'{"version": "1", "install": 7}\' > "$2"\n'
    )
    fake.chmod(0o755)
    facts = preflight.BaseFacts("3.11.2", "cp", "cp311", "glibc", "2.36", "x86_64")
    prediction = preflight.run_preflight(facts, ["six"], timeout_s=30, python=str(fake))
    assert prediction.status == "unknown"
    assert "pip's report: install" in prediction.verdict
