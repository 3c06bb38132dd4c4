"""Vulnerability counts from trivy / grype reports, and scan() with fake and real scanners.

The report fixtures follow the published JSON layouts (trivy: SchemaVersion 2,
Results[].Vulnerabilities[] with Severity and FixedVersion; grype: matches[] with
vulnerability.severity and vulnerability.fix {versions, state}, descriptor {name, version,
db}); they are small documents written here, not copies of real reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.vulns import (
    NOT_SCANNED_NO_DB,
    NotScanned,
    ScannerSpec,
    VulnCounts,
    parse_grype,
    parse_trivy,
    scan,
)


def trivy_vuln(cve: str, package: str, severity: str, fixed: str = "") -> dict[str, Any]:
    vuln = {"VulnerabilityID": cve, "PkgName": package, "InstalledVersion": "1.0"}
    vuln.update(Severity=severity, Status="fixed" if fixed else "affected")
    if fixed:
        vuln["FixedVersion"] = fixed
    return vuln


TRIVY_REPORT: dict[str, Any] = {
    "SchemaVersion": 2,
    "CreatedAt": "2026-12-01T09:00:00Z",
    "ArtifactName": "sbom.cdx.json",
    "ArtifactType": "cyclonedx",
    "Trivy": {"Version": "0.58.0"},
    "Results": [
        {
            "Target": "sbom.cdx.json (debian 12.8)",
            "Class": "os-pkgs",
            "Type": "debian",
            "Vulnerabilities": [
                trivy_vuln("CVE-2024-0001", "libssl3", "CRITICAL", "3.0.15-1~deb12u1"),
                trivy_vuln("CVE-2024-0002", "libssl3", "HIGH"),
                trivy_vuln("CVE-2024-0003", "bash", "LOW"),
                trivy_vuln("CVE-2024-0004", "zlib1g", "UNKNOWN"),
                trivy_vuln("CVE-2024-0005", "tar", "SOMETHING-NEW"),
            ],
        },
        {"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg"},  # no findings
        {
            "Target": "Python",
            "Class": "lang-pkgs",
            "Type": "python-pkg",
            "Vulnerabilities": [
                trivy_vuln("GHSA-aaaa-bbbb-cccc", "urllib3", "MEDIUM", "2.2.2"),
                trivy_vuln("CVE-2024-0001", "libssl3", "CRITICAL", "3.0.15-1~deb12u1"),
            ],
        },
    ],
}


def grype_match(cve: str, package: str, severity: str, state: str, *fixes: str) -> dict[str, Any]:
    return {
        "vulnerability": {
            "id": cve,
            "dataSource": f"https://security-tracker.debian.org/tracker/{cve}",
            "namespace": "debian:distro:debian:12",
            "severity": severity,
            "fix": {"versions": list(fixes), "state": state},
        },
        "relatedVulnerabilities": [],
        "matchDetails": [],
        "artifact": {"name": package, "version": "1.0", "type": "deb"},
    }


GRYPE_REPORT: dict[str, Any] = {
    "matches": [
        grype_match("CVE-2024-0001", "libssl3", "Critical", "fixed", "3.0.15-1~deb12u1"),
        grype_match("CVE-2024-0002", "libssl3", "High", "not-fixed"),
        grype_match("CVE-2024-0003", "bash", "Negligible", "wont-fix"),
        grype_match("CVE-2024-0004", "zlib1g", "Unknown", "unknown"),
        grype_match("CVE-2024-0006", "perl-base", "Medium", "fixed"),  # fixed, no version
        grype_match("GHSA-aaaa-bbbb-cccc", "urllib3", "Medium", "fixed", "2.2.2"),
        grype_match("CVE-2024-0007", "tar", "Low", "not-fixed"),
    ],
    "source": {"type": "sbom", "target": "sbom.cdx.json"},
    "distro": {"name": "debian", "version": "12"},
    "descriptor": {
        "name": "grype",
        "version": "0.86.1",
        "db": {"status": {"built": "2026-11-20T01:02:03Z", "schemaVersion": "v6.0.2"}},
    },
}


def test_trivy_counts() -> None:
    counts = parse_trivy(TRIVY_REPORT)
    assert counts.by_severity() == {
        "critical": 1,  # the finding repeated in a second result counts once
        "high": 1,
        "medium": 1,
        "low": 1,
        "negligible": 0,
        "unknown": 2,  # UNKNOWN and a severity this code does not know
    }
    assert counts.total == 6 and counts.fixable == 2
    assert (counts.scanner, counts.scanner_version, counts.db_built) == ("trivy", "0.58.0", None)


def test_trivy_empty_report_is_a_real_zero() -> None:
    counts = parse_trivy({"SchemaVersion": 2, "Results": []}, "0.58.0", "2026-11-30T00:00:00Z")
    assert counts.total == 0 and counts.db_built == "2026-11-30T00:00:00Z"


def test_grype_counts() -> None:
    counts = parse_grype(GRYPE_REPORT)
    assert counts.by_severity() == {
        "critical": 1,
        "high": 1,
        "medium": 2,
        "low": 1,
        "negligible": 1,
        "unknown": 1,
    }
    assert counts.total == 7
    assert counts.fixable == 2  # "fixed" without a version is not fixable
    assert counts.scanner_version == "0.86.1" and counts.db_built == "2026-11-20T01:02:03Z"


def test_grype_older_descriptor_and_explicit_facts() -> None:
    older = {"matches": [], "descriptor": {"version": "0.70.0", "db": {"built": "2024-01-02"}}}
    assert parse_grype(older).db_built == "2024-01-02"
    assert parse_grype(older, "0.99.0", "2026-01-01").scanner_version == "0.99.0"


def test_counts_round_trip_through_a_dict() -> None:
    counts = parse_grype(GRYPE_REPORT)
    data = json.loads(json.dumps(counts.to_scan().to_dict()))
    assert data["scanned"] is True and data["total"] == 7
    assert VulnCounts.from_dict(data) == counts
    data["total"] = 8
    with pytest.raises(ValueError, match="total"):
        VulnCounts.from_dict(data)


def test_not_scanned_without_a_binary(tmp_path: Path) -> None:
    spec = ScannerSpec(name="trivy", db_dir=tmp_path, binary=tmp_path / "no-trivy")
    outcome = scan(tmp_path / "sbom.json", spec)
    assert isinstance(outcome, NotScanned)
    assert outcome.reason.startswith("not scanned:") and "trivy" in outcome.reason
    command = outcome.command
    assert command and command.startswith(f"{tmp_path / 'no-trivy'} sbom ")
    assert f"with it, `{command}` gives the counts here" in outcome.reason
    assert outcome.to_scan().to_dict() == {
        "scanned": False,
        "scanner": "trivy",
        "reason": outcome.reason,
        "command": command,
        "scanner_version": None,
        "scanner_sha256": None,
    }


def test_not_scanned_without_a_binary_on_path(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    outcome = scan(tmp_path / "sbom.json", ScannerSpec(name="grype", db_dir=tmp_path))
    assert isinstance(outcome, NotScanned) and outcome.reason.startswith("not scanned:")


FAKE_SCANNER = """\
#!{python}
# A stand-in scanner: records its argv and env, answers like the real tool's JSON.
import json, os, sys
log = {log!r}
with open(log, "a") as handle:
    keys = sorted(k for k in os.environ if k.startswith(("GRYPE_", "TRIVY_")))
    handle.write(json.dumps({{"argv": sys.argv[1:], "env": {{k: os.environ[k] for k in keys}}}}))
    handle.write("\\n")
answers = {answers!r}
for prefix, answer in answers:
    if sys.argv[1:1 + len(prefix)] == prefix:
        print(answer)
        sys.exit(0)
sys.stderr.write("fake scanner: unexpected arguments\\n")
sys.exit(2)
"""


def fake_scanner(tmp_path: Path, name: str, answers: list[tuple[list[str], str]]) -> Path:
    script = tmp_path / name
    log = tmp_path / f"{name}.log"
    script.write_text(FAKE_SCANNER.format(python=sys.executable, log=str(log), answers=answers))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def calls(tmp_path: Path, name: str) -> list[dict[str, Any]]:
    lines = (tmp_path / f"{name}.log").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def sbom_file(tmp_path: Path) -> Path:
    path = tmp_path / "sbom.cdx.json"
    path.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6"}')
    return path


def test_no_database_means_not_scanned(tmp_path: Path, sbom_file: Path) -> None:
    """The reason names the scanner build that has no database and the command that gives
    the counts once it has one (the SBOM named as the run folder names it)."""
    version = {"Version": "0.58.0"}  # trivy without a database reports no VulnerabilityDB
    binary = fake_scanner(tmp_path, "trivy", [(["version"], json.dumps(version))])
    spec = ScannerSpec(name="trivy", db_dir=tmp_path / "db", binary=binary)
    outcome = scan(sbom_file, spec, "sbom/py311-slim.cdx.json")
    assert isinstance(outcome, NotScanned) and outcome.reason.startswith(NOT_SCANNED_NO_DB)
    sha256 = hashlib.sha256(binary.read_bytes()).hexdigest()
    assert (outcome.scanner, outcome.scanner_version, outcome.scanner_sha256) == (
        "trivy",
        "0.58.0",
        sha256,
    )
    assert outcome.command == (
        f"{binary} sbom --format json --offline-scan --skip-db-update "
        f"--cache-dir {tmp_path / 'db'} sbom/py311-slim.cdx.json"
    )
    assert f"(trivy 0.58.0, sha256:{sha256[:12]} has none in {tmp_path / 'db'})" in outcome.reason
    assert outcome.reason.endswith(f"`{outcome.command}` from the run folder gives the counts here")


def test_trivy_scan_command_line(tmp_path: Path, sbom_file: Path) -> None:
    db_dir = tmp_path / "trivy-cache"
    (db_dir / "db").mkdir(parents=True)
    (db_dir / "db" / "trivy.db").write_bytes(b"bolt")
    version = {"Version": "0.58.0", "VulnerabilityDB": {"Version": 2, "UpdatedAt": "2026-11-29"}}
    binary = fake_scanner(
        tmp_path,
        "trivy",
        [(["version"], json.dumps(version)), (["sbom"], json.dumps(TRIVY_REPORT))],
    )
    outcome = scan(sbom_file, ScannerSpec(name="trivy", db_dir=db_dir, binary=binary))
    assert isinstance(outcome, VulnCounts)
    assert outcome.total == 6 and outcome.db_built == "2026-11-29"
    version_call, sbom_call = calls(tmp_path, "trivy")
    assert version_call["argv"] == ["version", "--format", "json", "--cache-dir", str(db_dir)]
    assert sbom_call["argv"] == [
        "sbom",
        "--format",
        "json",
        "--offline-scan",
        "--skip-db-update",
        "--cache-dir",
        str(db_dir),
        str(sbom_file),
    ]


def grype_db(tmp_path: Path) -> Path:
    db_dir = tmp_path / "grype-db"
    (db_dir / "6").mkdir(parents=True)
    (db_dir / "6" / "vulnerability.db").write_bytes(b"sqlite")
    return db_dir


def test_grype_scan_command_line_and_env(tmp_path: Path, sbom_file: Path) -> None:
    db_dir = grype_db(tmp_path)
    status = {"schemaVersion": "v6.0.2", "built": "2026-11-28T00:00:00Z", "valid": True}
    binary = fake_scanner(
        tmp_path,
        "grype",
        [
            (["version"], json.dumps({"application": "grype", "version": "0.86.1"})),
            (["db", "status"], json.dumps(status)),
            ([f"sbom:{sbom_file}"], json.dumps({**GRYPE_REPORT, "descriptor": {}})),
        ],
    )
    outcome = scan(sbom_file, ScannerSpec(name="grype", db_dir=db_dir, binary=binary))
    assert isinstance(outcome, VulnCounts), outcome
    assert outcome.scanner_version == "0.86.1" and outcome.db_built == "2026-11-28T00:00:00Z"
    recorded = calls(tmp_path, "grype")
    assert [c["argv"] for c in recorded] == [
        ["version", "-o", "json"],
        ["db", "status", "-o", "json"],
        [f"sbom:{sbom_file}", "-o", "json"],
    ]
    env = recorded[-1]["env"]
    assert env["GRYPE_DB_CACHE_DIR"] == str(db_dir)
    assert env["GRYPE_DB_AUTO_UPDATE"] == "false"
    assert env["GRYPE_CHECK_FOR_APP_UPDATE"] == "false"


def test_invalid_grype_database_is_not_scanned(tmp_path: Path, sbom_file: Path) -> None:
    status = {"schemaVersion": "v6.0.2", "valid": False, "error": "database does not exist"}
    binary = fake_scanner(
        tmp_path,
        "grype",
        [(["version"], json.dumps({"version": "0.86.1"})), (["db", "status"], json.dumps(status))],
    )
    spec = ScannerSpec(name="grype", db_dir=grype_db(tmp_path), binary=binary)
    outcome = scan(sbom_file, spec)
    assert isinstance(outcome, NotScanned)
    assert outcome.reason.startswith(NOT_SCANNED_NO_DB) and "does not exist" in outcome.reason


def test_a_failing_or_hanging_scanner_is_not_scanned(tmp_path: Path, sbom_file: Path) -> None:
    db_dir = grype_db(tmp_path)
    binary = fake_scanner(tmp_path, "grype", [(["version"], "{}")])  # db status: exit 2
    outcome = scan(sbom_file, ScannerSpec(name="grype", db_dir=db_dir, binary=binary))
    assert isinstance(outcome, NotScanned) and "exited 2" in outcome.reason
    sleeper = tmp_path / "sleepy"
    sleeper.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    sleeper.chmod(0o755)
    spec = ScannerSpec(name="grype", db_dir=db_dir, binary=sleeper, timeout_s=0.5)
    outcome = scan(sbom_file, spec)  # the version query is bounded by the scan's timeout
    assert isinstance(outcome, NotScanned) and "took longer than" in outcome.reason


REAL_SCANNERS = [name for name in ("trivy", "grype") if shutil.which(name)]


@pytest.mark.skipif(not REAL_SCANNERS, reason="neither trivy nor grype is on PATH")
@pytest.mark.parametrize("name", REAL_SCANNERS)
def test_real_scanner(name: str, tmp_path: Path) -> None:
    """With a real binary: counts when HARNESS_VULN_DB_<NAME> names its database folder,
    else exactly the no-database reason (never a zero count)."""
    from harness.documents.sbom import build_sbom
    from harness.model.results import OsPackage

    sbom = tmp_path / "sbom.cdx.json"
    packages: list[OsPackage] = [{"name": "openssl", "version": "3.0.2-1", "architecture": "amd64"}]
    text = build_sbom("t", None, "debian", packages, [], {}, os_version="12")
    sbom.write_text(text)
    configured = os.environ.get(f"HARNESS_VULN_DB_{name.upper()}")
    db_dir = Path(configured) if configured else tmp_path / "empty-db"
    outcome = scan(sbom, ScannerSpec(name=name, db_dir=db_dir))  # type: ignore[arg-type]
    if configured:
        assert isinstance(outcome, VulnCounts), outcome
        assert outcome.scanner == name and outcome.scanner_version and outcome.db_built
    else:
        assert isinstance(outcome, NotScanned) and outcome.reason.startswith(NOT_SCANNED_NO_DB)


# -- recorded scans, as results.json lists them -------------------------------------------


def counts(**severities: int) -> dict[str, Any]:
    return VulnCounts("trivy", "0.58.0", "2026-11-29", fixable=1, **severities).to_scan().to_dict()


def sboms(*entries: tuple[str, str, int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "sboms": {
            "scanner": {"name": "trivy", "db": "/db"},
            "sboms": [
                {
                    "path": f"sbom/{s}.cdx.json",
                    "kind": k,
                    "subject": s,
                    "repeat": r,
                    "vulnerabilities": v,
                }
                for k, s, r, v in entries
            ],
        }
    }


def test_recorded_scans_read_back_or_say_why_not() -> None:
    from harness.analysis.vulns import base_scan, cell_scan, recorded_scan

    assert recorded_scan(counts(low=23)) == VulnCounts(
        "trivy", "0.58.0", "2026-11-29", low=23, fixable=1
    )
    assert recorded_scan({"scanned": False, "reason": "not scanned: trivy failed"}) == NotScanned(
        "not scanned: trivy failed"
    )
    unreadable = {"scanned": True, "by_severity": {"low": 2}, "total": 9}
    assert recorded_scan(unreadable) == NotScanned("not scanned: the recorded scan cannot be read")
    results = sboms(("base", "slim", 0, counts(low=23)), ("cell", "slim×ffmpeg", 1, counts()))
    assert isinstance(base_scan(results, "slim"), VulnCounts)
    assert base_scan(results, "alpine") == NotScanned(
        "not scanned: no SBOM: no cell of alpine reported its contents"
    )
    assert base_scan({}, "slim").reason.endswith("not listed in results.json")  # type: ignore[union-attr]
    assert isinstance(cell_scan(results, "slim×ffmpeg", 1), VulnCounts)
    assert isinstance(cell_scan(results, "slim×ffmpeg", 0), NotScanned)


def test_count_texts_name_critical_and_high_even_at_zero() -> None:
    from harness.analysis.vulns import counts_text, scan_text, source_text

    slim = VulnCounts("trivy", "0.58.0", "2026-11-29", low=23, medium=2, fixable=5)
    assert counts_text(slim) == "0 critical, 0 high, 2 medium, 23 low; 5 fixable"
    assert source_text(slim) == "trivy 0.58.0, DB built 2026-11-29"
    assert source_text(VulnCounts("grype", None, None)) == "grype, DB date unknown"
    assert scan_text(slim).endswith("(trivy 0.58.0, DB built 2026-11-29)")
    assert scan_text(NotScanned(NOT_SCANNED_NO_DB)) == NOT_SCANNED_NO_DB


def test_differences_only_between_scans_of_one_database() -> None:
    from harness.analysis.vulns import scan_delta

    slim = VulnCounts("trivy", "0.58.0", "2026-11-29", low=23, high=1)
    musl = VulnCounts("trivy", "0.58.0", "2026-11-29", low=2, high=1)
    assert scan_delta(slim, musl) == "-21 low"
    assert scan_delta(slim, slim) == "the same counts"
    older = VulnCounts("trivy", "0.58.0", "2026-10-01", low=2)
    assert scan_delta(slim, older).startswith("not comparable: scanned with different databases")
    assert scan_delta(slim, NotScanned(NOT_SCANNED_NO_DB)) == (
        f"no difference can be given: {NOT_SCANNED_NO_DB}"
    )


# -- provenance: which scanner build, which command ------------------------------------


def trivy_db(tmp_path: Path) -> Path:
    db_dir = tmp_path / "trivy-cache"
    (db_dir / "db").mkdir(parents=True)
    (db_dir / "db" / "trivy.db").write_bytes(b"bolt")
    return db_dir


def test_a_scan_records_the_binary_that_ran_by_path_and_sha256(
    tmp_path: Path, sbom_file: Path
) -> None:
    version = {"Version": "0.58.0", "VulnerabilityDB": {"Version": 2, "UpdatedAt": "2026-11-29"}}
    real = fake_scanner(
        tmp_path,
        "trivy",
        [(["version"], json.dumps(version)), (["sbom"], json.dumps(TRIVY_REPORT))],
    )
    link = tmp_path / "bin" / "trivy"  # as on PATH: a link to the file that really runs
    link.parent.mkdir()
    link.symlink_to(real)
    spec = ScannerSpec(name="trivy", db_dir=trivy_db(tmp_path), binary=link)
    outcome = scan(sbom_file, spec)
    assert isinstance(outcome, VulnCounts)
    sha256 = hashlib.sha256(real.read_bytes()).hexdigest()
    assert (outcome.scanner_path, outcome.scanner_sha256) == (str(real.resolve()), sha256)
    data = json.loads(json.dumps(outcome.to_scan().to_dict()))
    assert (data["scanner_sha256"], data["scanner_path"]) == (sha256, str(real.resolve()))
    assert VulnCounts.from_dict(data) == outcome
    from harness.analysis.vulns import scan_text

    assert scan_text(outcome) == (
        f"1 critical, 1 high, 1 medium, 1 low, 2 unknown; 2 fixable "
        f"(trivy 0.58.0, sha256:{sha256[:12]}, DB built 2026-11-29)"
    )
    # another build at the same path is another sha256 (the hash is not cached by path)
    real.write_text(real.read_text() + "# rebuilt\n")
    again = scan(sbom_file, spec)
    assert isinstance(again, VulnCounts)
    assert again.scanner_sha256 == hashlib.sha256(real.read_bytes()).hexdigest() != sha256


def test_the_shown_command_is_the_one_the_scan_runs(tmp_path: Path, sbom_file: Path) -> None:
    """One argv builder: the grype command (with its environment) a not-scanned reason
    shows is the command line and environment the scan itself ran with."""
    db_dir = grype_db(tmp_path)
    status = {"schemaVersion": "v6.0.2", "built": "2026-11-28T00:00:00Z", "valid": True}
    binary = fake_scanner(
        tmp_path,
        "grype",
        [
            (["version"], json.dumps({"version": "0.86.1"})),
            (["db", "status"], json.dumps(status)),
            (["sbom:"], json.dumps(GRYPE_REPORT)),  # never matched: the argv is sbom:PATH
        ],
    )
    spec = ScannerSpec(name="grype", db_dir=db_dir, binary=binary)
    scan(sbom_file, spec)  # the fake answers "unexpected arguments" to the scan itself
    ran = calls(tmp_path, "grype")[-1]
    shutil.rmtree(db_dir)
    outcome = scan(sbom_file, spec)
    assert isinstance(outcome, NotScanned) and outcome.command
    words = shlex.split(outcome.command)
    env = dict(word.split("=", 1) for word in words[:4])
    assert words[4:] == [str(binary), *ran["argv"]]
    assert env == {k: v for k, v in ran["env"].items() if k in env} and len(env) == 4
    assert env["GRYPE_DB_CACHE_DIR"] == str(db_dir)


def test_a_failed_scan_says_what_it_ran(tmp_path: Path, sbom_file: Path) -> None:
    binary = fake_scanner(tmp_path, "trivy", [(["version"], json.dumps({"Version": "0.58.0"}))])
    spec = ScannerSpec(name="trivy", db_dir=trivy_db(tmp_path), binary=binary)
    outcome = scan(sbom_file, spec, "sbom/x.cdx.json")
    assert isinstance(outcome, NotScanned) and "exited 2" in outcome.reason
    assert outcome.reason.endswith(f"; the scan: `{outcome.command}`")
    assert outcome.scanner_sha256 == hashlib.sha256(binary.read_bytes()).hexdigest()


def test_without_a_scanner_the_reason_says_which_would_run_and_how() -> None:
    from harness.analysis.vulns import not_scanned_without_scanner, recorded_scan

    outcome = not_scanned_without_scanner("sbom/py311-slim×ffmpeg.r0.cdx.json")
    assert outcome.command == (
        "trivy sbom --format json --offline-scan --skip-db-update --cache-dir DB "
        "'sbom/py311-slim×ffmpeg.r0.cdx.json'"
    )
    assert outcome.reason.startswith(NOT_SCANNED_NO_DB)
    assert "trivy or grype would run" in outcome.reason
    assert f"`{outcome.command}` from the run folder gives the counts here" in outcome.reason
    assert recorded_scan(json.loads(json.dumps(outcome.to_scan().to_dict()))) == outcome


@pytest.mark.parametrize(
    ("scanner", "version", "flagged"),
    [
        ("trivy", "0.69.4", True),
        ("trivy", "0.69.5", True),
        ("trivy", "v0.69.6", True),
        ("trivy", "0.69.3", False),
        ("trivy", "0.69.7", False),
        ("trivy", "0.70.0", False),
        ("trivy", None, False),
        ("trivy", "dev", False),
        ("grype", "0.69.5", False),
    ],
)
def test_compromised_scanner_releases_are_flagged_beside_their_counts(
    scanner: str, version: str | None, flagged: bool
) -> None:
    from harness.analysis.vulns import compromised_warning, scan_delta, scan_text, source_text

    counts = VulnCounts(scanner, version, "2026-11-29", low=2)
    warning = compromised_warning(scanner, version)
    assert (warning is not None) == flagged
    if not flagged:
        assert "compromised" not in scan_text(counts)
        return
    assert warning == (
        f"trivy {version}: a compromised release (CVE-2026-33634); counts not trusted"
    )
    assert source_text(counts).endswith(f"; {warning}") and warning in scan_text(counts)
    clean = VulnCounts("trivy", "0.58.0", "2026-11-29", low=23)
    assert scan_delta(clean, counts) == f"no difference can be given: {warning}"


def test_recorded_scans_are_read_from_the_typed_results_too() -> None:
    from harness.analysis.vulns import base_scan, cell_scan, recorded_scan
    from harness.model.results import Results, RunInfo, Scan

    counts_ = VulnCounts("trivy", "0.58.0", "2026-11-29", low=23, fixable=1)
    typed = counts_.to_scan()
    assert (
        isinstance(typed, Scan)
        and typed.total == 23
        and typed.by_severity
        == {
            s: (23 if s == "low" else 0)
            for s in ("critical", "high", "medium", "low", "negligible", "unknown")
        }
    )
    assert recorded_scan(typed) == counts_
    assert recorded_scan(Scan(scanned=True, scanner="trivy", by_severity={"low": 2}, total=9)) == (
        NotScanned("not scanned: the recorded scan cannot be read")
    )
    assert recorded_scan({"scanned": "yes"}) == NotScanned(
        "not scanned: the recorded scan cannot be read"
    )
    data = sboms(("base", "slim", 0, counts(low=23)), ("cell", "slim×ffmpeg", 1, counts()))
    results = Results.from_json_data({"schema_version": 1, "run": {"id": "r"}, **data}, "r")
    assert base_scan(results, "slim") == base_scan(data, "slim") == counts_
    assert isinstance(cell_scan(results, "slim×ffmpeg", 1), VulnCounts)
    assert cell_scan(results, "slim×ffmpeg", 0) == cell_scan(data, "slim×ffmpeg", 0)
    listed_nothing = Results(schema_version=1, run=RunInfo())
    assert base_scan(listed_nothing, "slim").reason.endswith("not listed in results.json")  # type: ignore[union-attr]


def test_a_report_of_another_shape_is_not_a_zero_count() -> None:
    from harness.analysis.vulns import ScanFailed

    with pytest.raises(ScanFailed, match=r"trivy's report is not in the shape .*Results"):
        parse_trivy({"SchemaVersion": 2, "Results": {"Target": "not a list"}})
    with pytest.raises(ScanFailed, match=r"grype's report is not in the shape .*matches\.0"):
        parse_grype({"matches": ["CVE-2024-0001"]})
    # Absent lists are no findings; a number where text is expected is read as text.
    assert parse_trivy({"SchemaVersion": 2, "Results": None}).total == 0
    numbered = {"matches": [grype_match("CVE-1", "bash", "High", "fixed", "5.2")]}
    numbered["matches"][0]["artifact"]["version"] = 5
    assert parse_grype(numbered).by_severity()["high"] == 1
