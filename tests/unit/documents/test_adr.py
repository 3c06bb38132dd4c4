"""harness.adr: a MADR 4 record a team can merge: the decision first, the drivers from the
matrix's block, pros and cons from the decision rows, relative links, under 200 lines."""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness.analysis.decision import NO_OPTION
from harness.documents.adr import NO_CHOICE, render_adr
from harness.model.errors import ConfigurationError
from harness.model.results import Results
from tests.unit.analysis.test_decision import MB, base, cell, dockerfile_bases, results

MADR_HEADINGS = (
    "## Decision",
    "## Context and Problem Statement",
    "## Decision Drivers",
    "## Considered Options",
    "## Decision Outcome",
    "### Consequences",
    "### Confirmation",
    "## Pros and Cons of the Options",
    "## More Information",
    "### Provenance",
)
DEPSETS = ("ffmpeg", "torch-cpu", "transformers", "spacy", "whisper")
TORCH_LIMIT = "no CPU build of torch 2.13.0 can be reached for this Python here"
NO_PY312 = "no registry reachable and no local stand-in: no Debian suite ships Python 3.12"


def standin(name: str, python: str, os: str, **extra: Any) -> dict[str, Any]:
    return base(name, standin=f"stand-in for {name}: built locally", python=python, os=os) | extra


def default_matrix_run(**run: Any) -> Results:
    """The default matrix (5 bases × 5 depsets) as it runs here: py312-slim has no
    stand-in, torch has a cp311 wheel only, alpine has no musllinux torch."""
    repro = {"dockerfile": "FROM x\nRUN pip install y", "commands": ["docker build ."]}
    bases = [
        standin("py311-slim", "3.11.2", "Debian GNU/Linux 12 (bookworm)"),
        base("py312-slim", status="unavailable", reason=NO_PY312, python=None, os=None),
        standin("py313-slim", "3.13.5", "Debian GNU/Linux 13 (trixie)", size_bytes=230 * MB),
        standin("py315-slim", "3.15.0", "Debian GNU/Linux forky/sid"),
        standin(
            "py315-alpine",
            "3.13.15",
            "Alpine Linux v3.22",
            size_bytes=46 * MB,
            libc={"family": "musl", "version": "1.2.6"},
        ),
    ]
    cells = []
    for depset in DEPSETS:
        cells.append(cell("py311-slim", depset, reproducer=repro))
        cells.append(cell("py312-slim", depset, "unavailable", reason=NO_PY312))
        for slim in ("py313-slim", "py315-slim"):
            if depset in ("ffmpeg", "spacy"):
                cells.append(cell(slim, depset, reproducer=repro))
            else:
                cells.append(cell(slim, depset, "unavailable", reason=TORCH_LIMIT))
        if depset in ("torch-cpu", "transformers"):
            expected = {"reason": "no musllinux wheel of torch", "link": "https://x.test/71381"}
            cells.append(
                cell("py315-alpine", depset, "expected-failure", expected_failure=expected)
            )
        elif depset == "whisper":
            failure = {"kind": "no-matching-distribution", "distribution": "torch==2.13.0+cpu"}
            step = {
                "name": "pip-install",
                "kind": "install",
                "status": "failed",
                "failure": failure,
            }
            cells.append(cell("py315-alpine", depset, "failed", steps=[step]))
        else:
            cells.append(cell("py315-alpine", depset, reproducer=repro))
    matrix = {"path": "/work/somewhere/matrix.yaml", "sha256": "ab" * 32}
    return results(bases, cells, run={"matrix": matrix, "ended_at": "2026-12-04T11:00:00", **run})


@pytest.fixture
def adr() -> str:
    return render_adr(default_matrix_run(), report_href="report.html")


def section(text: str, heading: str) -> str:
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def test_madr_front_matter_and_layout(adr: str) -> None:
    assert adr.startswith("---\nstatus: proposed\ndate: 2026-12-04\ndecision-makers: ")
    assert adr.split("\n")[4:6] == ["---", ""]
    positions = [adr.index(h + "\n") for h in MADR_HEADINGS]
    assert positions == sorted(positions)
    assert adr.count("\n# ") == 1


def test_the_default_matrix_gives_a_short_record(adr: str) -> None:
    assert len(adr.splitlines()) < 200


def test_under_the_default_drivers_the_baseline_is_chosen(adr: str) -> None:
    outcome = section(adr, "## Decision Outcome")
    assert 'Chosen option: "py311-slim", because it is the only option that holds' in outcome
    assert "not decidable here: py312-slim, py313-slim, py315-slim" in outcome
    decision = section(adr, "## Decision")
    assert (
        "| `py315-alpine` | blocked by: torch-cpu (no musllinux wheel of torch) — fix: see "
        "https://x.test/71381" in decision
    )
    assert "; torch (no musllinux wheel) — fix: stay on glibc or drop torch |" in decision
    assert f"| `py312-slim` | not decidable here: py312-slim was not measured ({NO_PY312}) |" in (
        decision
    )


def test_the_drivers_are_the_decision_block(adr: str) -> None:
    drivers = section(adr, "## Decision Drivers")
    assert "* must: compatibility: every dependency set that passes on some option passes" in (
        drivers
    )
    assert "* prefer 1: vulnerabilities: fewer critical" in drivers
    assert "smoke tests" not in drivers


def test_no_absolute_path_and_every_link_relative(adr: str) -> None:
    assert "/work/" not in adr and "file:" not in adr
    targets = re.findall(r"\]\(([^)]+)\)", adr)
    assert targets and all(not t.startswith("/") for t in targets)
    assert "[reproducer](cells/py311-slim_x_ffmpeg.r0.json)" in adr
    assert "FROM x" not in adr  # reproducers are linked, never inlined
    copied = render_adr(default_matrix_run(), report_href="https://ci.test/run/7/report.html")
    assert "[reproducer](https://ci.test/run/7/cells/py311-slim_x_ffmpeg.r0.json)" in copied


def test_pros_and_cons_come_from_the_rows(adr: str) -> None:
    alpine = section(adr, "## Pros and Cons of the Options").split("### `py315-alpine`")[1]
    assert "* Bad, because compatibility: 2 of 5 pass; breaking: torch-cpu" in alpine
    assert "* Good, because image size:" in alpine  # 46 MB base against 200 MB


def test_a_pure_python_sdist_is_no_con() -> None:
    pure = {"name": "future", "version": "1.0", "wheel": False}
    contents = {"contents": {"distributions": [{"name": "future", "wheel_tags": ["py3-none-any"]}]}}
    built = cell("b", "one", distributions=[pure], probes=contents)
    text = render_adr(
        results([base("a"), base("b")], [cell("a", "one"), built]), report_href="report.html"
    )
    assert "built from source here: future (pure Python)" in text
    assert not any(line.startswith("* Bad") and "future" in line for line in text.splitlines())


def test_the_team_suite_is_a_driver_when_a_depset_runs_it() -> None:
    junit = {"tests": 3, "passed": 3}
    probes = {"tests": {"status": "passed", "seconds": 1.0, "command": "pytest", "junit": junit}}
    text = render_adr(
        results(
            [base("a"), base("b")],
            [cell("a", "app", probes=probes), cell("b", "app", probes=probes)],
        ),
        report_href="report.html",
    )
    assert "* Good, because the team's test suite: app: 3 passed of 3 in 1.0 s" in text


def test_no_option_meets_the_drivers() -> None:
    run = results(
        [base("a"), base("b", size_bytes=100 * MB)],
        [
            cell("a", "one"),
            cell("b", "one", "failed", reason="smoke test failed"),
            cell("a", "two", "failed", reason="import error"),
            cell("b", "two"),
        ],
    )
    text = render_adr(run, report_href="report.html")
    outcome = section(text, "## Decision Outcome")
    assert f"**{NO_OPTION} (must: compatibility, tests): a: blocked by: two" in outcome
    assert NO_CHOICE in outcome and "Chosen option" not in text


def test_an_unknown_base_is_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        render_adr(default_matrix_run(), report_href="report.html", baseline="py310")
    assert caught.value.exit_code == 2 and "py311-slim" in str(caught.value.fix)


def test_a_named_baseline_and_candidates_narrow_the_record() -> None:
    text = render_adr(
        default_matrix_run(),
        report_href="report.html",
        baseline="py313-slim",
        candidates=["py315-alpine"],
    )
    assert "# Container base image for the Python workloads: py313-slim, py315-alpine" in text
    assert "--baseline py313-slim --candidate py315-alpine" in text


def test_deterministic() -> None:
    one = render_adr(default_matrix_run(), report_href="report.html")
    assert one == render_adr(default_matrix_run(), report_href="report.html")


def test_a_chosen_candidate_gives_its_consequences() -> None:
    run = results(
        [base("a"), base("b", size_bytes=50 * MB)],
        [cell("a", "one"), cell("b", "one")],
        scans={"a": {"scanned": True, "scanner": "grype", "by_severity": {}, "total": 0},
               "b": {"scanned": True, "scanner": "grype", "by_severity": {}, "total": 0}},
    )  # fmt: skip
    text = render_adr(run, report_href="report.html")
    outcome = section(text, "## Decision Outcome")
    assert (
        'Chosen option: "b", because it holds every must-driver (compatibility, tests)' in outcome
    )
    assert "* Good, because image size: one 150 MB (-150 MB (-50 %))" in outcome


def test_a_dockerfile_built_on_a_standin_is_titled_measured_on_a_standin() -> None:
    run = results(
        [
            standin("py311-slim", "3.11.2", "Debian GNU/Linux 12 (bookworm)", origin="stand-in"),
            *dockerfile_bases(),
        ],
        [cell("py311-slim", "one"), cell("team", "one"), cell("mine", "one")],
    )
    options = section(render_adr(run, report_href="report.html"), "## Considered Options")
    lines = {line.split("`")[1]: line for line in options.splitlines() if line.startswith("* ")}
    assert lines["py311-slim"].endswith("(measured on a local stand-in) — baseline")
    assert lines["team"].endswith(
        "(your Dockerfile, FROM py311-slim (stand-in); measured on a local stand-in)"
    )
    assert "stand-in" not in lines["mine"]


def test_a_switch_says_first_what_fails_on_the_image_in_use() -> None:
    """The service example: the team's suite fails on the baseline and passes on the
    candidate; the consequences lead with that, not only with size or speed rows."""
    broken = cell("old", "app", "failed", reason="pip-install: build-failed: psycopg2")
    found = results([base("old"), base("new", python="3.13.5")], [broken, cell("new", "app")])
    text = render_adr(found, report_href="report.html")
    consequences = text.split("### Consequences", 1)[1].split("###", 1)[0]
    first = consequences.strip().splitlines()[0]
    assert first.startswith("* Good, because `old` fails it and `new` does not: app:"), first


def test_a_fact_the_same_on_every_option_is_said_once() -> None:
    text = render_adr(default_matrix_run(), report_href="report.html")
    pros = section(text, "## Pros and Cons of the Options")
    assert pros.count("vulnerabilities (critical/high): not scanned") == 1
    assert "On every option:" in pros
