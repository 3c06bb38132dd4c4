"""harness.adr: a MADR document whose every number comes from the run, and no decision."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

import pytest

from harness.documents.adr import PLACEHOLDER, render_adr
from harness.model import format as fmt
from harness.model.errors import ConfigurationError
from harness.model.ids import cell_anchor

FIXTURES = Path(__file__).parents[2] / "fixtures"
MADR_HEADINGS = (
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


def load(name: str) -> dict[str, Any]:
    results: dict[str, Any] = json.loads(
        (FIXTURES / "nightly" / f"{name}.json").read_text(encoding="utf-8")
    )
    return results


@pytest.fixture
def run_b() -> dict[str, Any]:
    return load("run_b")


@pytest.fixture
def adr(run_b: dict[str, Any]) -> str:
    return render_adr(run_b, report_href="report.html", baseline="py311-slim", candidates=None)


def section(text: str, heading: str) -> str:
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def test_madr_layout(adr: str) -> None:
    assert adr.startswith("---\nstatus: proposed\ndate: 2026-11-27\n")
    positions = [adr.index(h + "\n") for h in MADR_HEADINGS]
    assert positions == sorted(positions)
    assert adr.count("\n# ") == 1  # one title
    options = section(adr, "## Considered Options")
    for base in ("py311-slim", "py313-slim", "alpine", "custom"):
        assert f"* `{base}`: " in options
        assert f"\n### `{base}`: " in section(adr, "## Pros and Cons of the Options")


def test_no_decision_is_made(adr: str) -> None:
    outcome = section(adr, "## Decision Outcome").split("### Confirmation")[0]
    assert f'Chosen option: "{PLACEHOLDER}"' in outcome
    for base in ("py311-slim", "py313-slim", "alpine", "custom"):
        assert base not in outcome
    lowered = adr.lower()
    for word in ("recommend", "we choose", "should use", "best option", "winner"):
        assert word not in lowered


def _samples(results: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    """Per cell id, the raw per-repeat values of each measure, read here straight from
    the JSON, independently of harness.runview."""
    out: dict[str, dict[str, list[float]]] = {}
    for cell in results["cells"]:
        measures = out.setdefault(cell["id"], {})
        installs = [s for s in cell["steps"] if s["kind"] == "install"]
        if installs and all(s["status"] == "passed" for s in installs):
            measures.setdefault("install", []).append(sum(s["seconds"] for s in installs))
        if cell["status"] in {"passed", "unexpected-pass"}:
            measures.setdefault("size", []).append(cell["size_added_bytes"])
        for name, facts in cell["probes"].items():
            if name == "imports" and facts["import_seconds"]:
                total = sum(facts["import_seconds"].values())
                measures.setdefault("import", []).append(total)
            elif name != "env":
                measures.setdefault(name, []).append(facts["seconds"])
    return out


def _allowed(results: dict[str, Any]) -> tuple[set[str], set[str], set[int]]:
    """The numbers the ADR may print: medians and half ranges of the fixture's
    samples, spelled as model.format spells seconds and sizes, and every integer byte
    count."""
    seconds, megabytes, integers = set(), set(), set()
    for measures in _samples(results).values():
        for name, values in measures.items():
            median = statistics.median(values)
            half = (max(values) - min(values)) / 2
            if name == "size":
                megabytes |= {fmt.size(median), fmt.size(half)}
            else:
                spread = fmt.seconds_spread(median, half).removesuffix(" s").split(" ± ")
                seconds |= {fmt.seconds_number(median), *spread}
    for base in results["bases"]:
        if base["size_bytes"]:
            integers.add(base["size_bytes"])
            megabytes.add(fmt.size(base["size_bytes"]))
    integers.add(results["run"]["host"]["memory_bytes"])
    return seconds, megabytes, integers


def test_every_number_comes_from_the_results(adr: str, run_b: dict[str, Any]) -> None:
    seconds, megabytes, integers = _allowed(run_b)
    found_seconds = re.findall(r"(\d+\.\d+)(?: ± (\d+\.\d+))? s\b", adr)
    assert found_seconds  # the test would be empty otherwise
    for median, half in found_seconds:
        assert median in seconds
        assert not half or half in seconds
    for median, half in re.findall(r"(\d[\d.]* [kMG]?B)(?: ± (\d[\d.]* [kMG]?B))?", adr):
        assert median in megabytes
        assert not half or half in megabytes
    for count in re.findall(r"([\d,]{4,}) bytes", adr):
        assert int(count.replace(",", "")) in integers


def test_exact_fixture_numbers_are_shown(adr: str, run_b: dict[str, Any]) -> None:
    measures = _samples(run_b)
    spacy = measures["py311-slim×spacy"]["install"]
    median, half = statistics.median(spacy), (max(spacy) - min(spacy)) / 2
    assert f"[{fmt.seconds_spread(median, half)}](report.html#cell-py311-slim_x_spacy)" in adr
    assert "[152 MB (152,043,520 bytes)](report.html#base-py311-slim)" in adr
    assert "49,283,072 bytes" in adr  # alpine's image size
    assert "blis 1.3.0" in adr  # the source build on py311-slim


def test_every_number_links_to_its_cell(adr: str, run_b: dict[str, Any]) -> None:
    anchors = {cell_anchor(c["id"]) for c in run_b["cells"]}
    anchors |= {f"base-{b['name']}" for b in run_b["bases"]}
    linked = re.findall(r"\[([^\]]*\d[^\]]*)\]\(report\.html#([^)]+)\)", adr)
    assert len(linked) > 30
    assert {anchor for _, anchor in linked} <= anchors
    measurements = section(adr, "## More Information").split("### Provenance")[0]
    unlinked = re.sub(r"\[[^\]]*\]\([^)]*\)", "", measurements)
    assert not re.findall(r"\d+\.\d+ s", unlinked)  # no bare timing outside a link


def test_reproducer_links_resolve(adr: str) -> None:
    targets = set(re.findall(r"\]\(#(repro-cell-[^)]+)\)", adr))
    ids = set(re.findall(r'<a id="(repro-cell-[^"]+)"></a>', adr))
    assert targets and targets <= ids
    assert "docker build -t repro-alpine-torch ." in adr


def test_pros_and_cons_are_measurements(adr: str) -> None:
    pros = section(adr, "## Pros and Cons of the Options")
    py313 = pros.split("### `py313-slim`")[1].split("\n### ")[0]
    assert "* Bad, because `spacy` failed: pip-install failed (exit 1)" in py313
    assert "* Good, because install time for `torch`: [" in py313
    assert "* Bad, because the base image is [168 MB (167,772,160 bytes)]" in py313
    alpine = pros.split("### `alpine`")[1].split("\n### ")[0]
    assert (
        "`spacy` fails, an expected failure declared in the matrix: no musllinux wheels" in alpine
    )
    assert "(https://pypi.org/project/blis/#files)" in alpine
    assert "`torch` passes although the matrix expects it to fail" in alpine
    assert "1 distribution(s) built from source" in alpine and "numpy 2.3.1" in alpine
    custom = pros.split("### `custom`")[1]
    assert "* Neutral, because the base was not available in this run: docker build" in custom
    assert "Bad" not in custom.split("## More Information")[0]


def test_provenance(adr: str, run_b: dict[str, Any]) -> None:
    provenance = section(adr, "## More Information")
    run = run_b["run"]
    for needle in (
        run["id"],
        run["started_at"],
        run["ended_at"],
        "harness version | 0.1.0",
        "Docker 20.10.24+dfsg1 (API 1.41, overlay2, cgroup v2)",
        "ci-runner-1, Debian GNU/Linux 12 (bookworm), kernel 6.1.0-28-amd64",
        run["matrix"]["sha256"],
        "sha256:" + "9f8e" * 16,
        "python@sha256:" + "0b1c" * 16,
        "stand-in for python:3.11-slim: Debian 12 + Debian's python3.11, built locally",
        "FIXTURE: hand-made nightly results",
        "[2.9.1+cpu wheel cp315-cp315-musllinux\\_1\\_2\\_x86\\_64]"
        "(report.html#cell-alpine_x_torch)",
        "| pip | 25.3 |",
    ):
        assert needle in provenance, needle
    alpine_row = next(r for r in provenance.splitlines() if r.startswith("| `alpine` |"))
    assert "stand-in" not in alpine_row and "origin not recorded" in alpine_row
    confirmation = section(adr, "## Decision Outcome")
    assert run["matrix"]["sha256"] in confirmation
    assert (
        "harness adr reports/<run-id> --baseline py311-slim --candidate py313-slim" in confirmation
    )


def test_candidates_and_no_baseline(run_b: dict[str, Any]) -> None:
    two = render_adr(run_b, report_href="r.html", baseline="py311-slim", candidates=["alpine"])
    options = section(two, "## Considered Options")
    assert "`alpine`" in options and "`py313-slim`" not in options
    plain = render_adr(run_b, report_href="r.html", baseline=None, candidates=None)
    pros = section(plain, "## Pros and Cons of the Options")
    assert "baseline" not in section(plain, "## Considered Options")
    assert "install time for" not in pros  # no comparisons without a baseline
    assert "Neutral, because for `torch`: install time [" in pros
    with pytest.raises(ConfigurationError, match="nope"):
        render_adr(run_b, report_href="r.html", baseline="nope", candidates=None)


def test_deterministic(run_b: dict[str, Any]) -> None:
    first = render_adr(run_b, report_href="report.html", baseline="py311-slim", candidates=None)
    again = render_adr(run_b, report_href="report.html", baseline="py311-slim", candidates=None)
    assert first == again


def test_report_fixture() -> None:
    """The report's fixture (repeat 1, one base unavailable) gives an ADR as well."""
    results = json.loads((FIXTURES / "results_v1.json").read_text(encoding="utf-8"))
    text = render_adr(results, report_href="report.html", baseline="py311-slim", candidates=None)
    for heading in MADR_HEADINGS:
        assert heading in text
    assert "no registry reachable and no local stand-in" in text
    assert "fixture-20261127-101500-ab12cd" in text


def test_interpreter_speed_against_the_baseline(run_b: dict[str, Any], adr: str) -> None:
    assert "### Interpreter speed" not in adr  # the fixture's bases were not benchmarked
    stats = {"median_s": 0.030, "rel_spread": 0.04, "rel_iqr": 0.02}
    for entry in run_b["bases"]:
        speed = {"status": "passed", "settings": {"scale": 1.0}, "workloads": {"json": stats}}
        if entry["name"] == "py313-slim":
            speed["workloads"] = {"json": {**stats, "median_s": 0.060}}
        entry["interpreter_speed"] = speed
    text = render_adr(run_b, report_href="report.html", baseline="py311-slim")
    speed_section = text.split("### Interpreter speed", 1)[1].split("\n### ", 1)[0]
    assert "| py311-slim (baseline) |" in speed_section
    assert "60.0 ms (2.00× slower)" in speed_section
    assert "counts as a difference only when" in speed_section  # the noise rule, stated


def base_entry(base: str, vulnerabilities: dict[str, Any]) -> dict[str, Any]:
    return {"path": f"sbom/{base}.cdx.json", "kind": "base", "subject": base,
            "vulnerabilities": vulnerabilities}  # fmt: skip


def test_vulnerabilities_are_not_scanned_never_zero(adr: str) -> None:
    pros = section(adr, "## Pros and Cons of the Options")
    for option in pros.split("\n### ")[1:]:
        assert "Neutral, because its vulnerabilities are not scanned: this run's SBOMs" in option


def test_scanned_bases_are_weighed_by_their_most_severe_findings(run_b: dict[str, Any]) -> None:
    from harness.analysis.vulns import VulnCounts

    def scan(built: str = "2026-11-29", **counts: int) -> dict[str, Any]:
        return VulnCounts("trivy", "0.58.0", built, **counts).to_dict()

    run_b["sboms"] = {
        "scanner": {"name": "trivy", "db": "/db"},
        "sboms": [
            base_entry("py311-slim", scan(low=23)),
            base_entry("py313-slim", scan(low=2, high=1)),  # fewer, but one high: Bad
            base_entry("alpine", scan(low=2)),
            base_entry("custom", scan("2026-10-01", low=1)),  # another database
        ],
    }
    text = render_adr(run_b, report_href="report.html", baseline="py311-slim", candidates=None)
    pros = section(text, "## Pros and Cons of the Options")
    options = {o.split("\n", 1)[0]: o for o in pros.split("\n### ")[1:]}

    def bullet(prefix: str) -> str:
        option = next(body for title, body in options.items() if prefix in title)
        return next(line for line in option.splitlines() if "SBOM" in line)

    assert bullet("alpine").startswith(
        "* Good, because the base image's SBOM has 0 critical, 0 high, 2 low; 0 fixable "
        "(trivy 0.58.0, DB built 2026-11-29) vs 0 critical, 0 high, 23 low; 0 fixable"
    )
    assert bullet("alpine").endswith("(-21 low)")
    assert bullet("py313-slim").startswith("* Bad, because")
    assert "not comparable: scanned with different databases" in bullet("custom")
    assert bullet("py311-slim").startswith("* Neutral, because the base image's SBOM has")
