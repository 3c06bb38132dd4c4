"""Vulnerability counts of an SBOM from trivy or grype, or why there are none.

A scan needs the scanner binary and its database on disk: nothing here downloads anything
(no registry or GitHub is reachable from the harness's machines). Without either the answer
is a ``NotScanned`` with its reason, never a zero count.

Commands and settings, from the tools' documentation:
- trivy ``sbom [flags] SBOM_PATH`` with ``--format json``, ``--offline-scan`` ("do not issue
  API requests to identify dependencies"), ``--skip-db-update`` and ``--cache-dir``
  (https://trivy.dev/v0.34/docs/references/cli/sbom, https://trivy.dev/v0.23.0/vulnerability/
  examples/db); the database sits at ``<cache-dir>/db/trivy.db``. ``trivy version --format
  json`` prints ``Version`` and ``VulnerabilityDB.UpdatedAt`` (trivy_version reference page;
  the field layout is trivy's pkg/commands/testdata/db/metadata.json).
- grype ``grype sbom:./sbom.json`` (anchore/grype README, "Scan with SBOM") with ``-o json``;
  ``GRYPE_DB_CACHE_DIR``, ``GRYPE_DB_AUTO_UPDATE`` and ``GRYPE_CHECK_FOR_APP_UPDATE`` are the
  env forms of ``db.cache-dir``, ``db.auto-update`` and ``check-for-app-update`` in grype's
  configuration reference. grype "will automatically fail scans if the vulnerability database
  is more than 5 days old" unless ``db.validate-age: false``
  (https://oss.anchore.com/docs/guides/vulnerability/database/): an offline database is
  usually older, so ``GRYPE_DB_VALIDATE_AGE=false`` is set too and its build date reported.
  ``grype db status -o json`` gives ``built``, ``schemaVersion``, ``valid``, ``error``;
  ``grype version -o json`` gives ``version``. The database is
  ``<cache-dir>/<schema>/vulnerability.db``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

NOT_SCANNED_PREFIX = "not scanned:"
NOT_SCANNED_NO_DB = "not scanned: no vulnerability database; see README"
# An SBOM with no components (an image without dpkg's or apk's database): a scan of it
# would read 0 for an image nobody could see into.
NOT_SCANNED_EMPTY = (
    f"{NOT_SCANNED_PREFIX} the SBOM lists no packages (the image has no dpkg or apk "
    "database), so a count would say nothing"
)
# A run published before results.json listed its SBOMs (they are in its sbom/index.json).
NOT_LISTED = f"{NOT_SCANNED_PREFIX} this run's SBOMs are not listed in results.json"
SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")
SCAN_TIMEOUT_S = 300.0
INFO_TIMEOUT_S = 30.0
STDERR_TAIL_CHARS = 300
GRYPE_FIXED_STATE = "fixed"

ScannerName = Literal["trivy", "grype"]


@dataclass(frozen=True)
class VulnCounts:
    """Findings of one scan, one per (vulnerability, package, version), by severity.

    ``negligible`` is grype's level below low (trivy has none, so 0 there); a severity a
    scanner writes that is not one of these counts as ``unknown``. ``fixable`` counts the
    findings with a fixed version known to the scanner's database.
    """

    scanner: str
    scanner_version: str | None
    db_built: str | None
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    negligible: int = 0
    unknown: int = 0
    fixable: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_severity().values())

    def by_severity(self) -> dict[str, int]:
        return {severity: getattr(self, severity) for severity in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "scanned": True,
            "scanner": self.scanner,
            "scanner_version": self.scanner_version,
            "db_built": self.db_built,
            "by_severity": self.by_severity(),
            "fixable": self.fixable,
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VulnCounts:
        severities = data.get("by_severity") or {}
        counts = cls(
            scanner=str(data["scanner"]),
            scanner_version=data.get("scanner_version"),
            db_built=data.get("db_built"),
            fixable=int(data.get("fixable", 0)),
            **{severity: int(severities.get(severity, 0)) for severity in SEVERITIES},
        )
        if "total" in data and int(data["total"]) != counts.total:
            raise ValueError(f"total {data['total']} is not the sum of by_severity")
        return counts


@dataclass(frozen=True)
class NotScanned:
    """No scan happened (or its output could not be used); ``reason`` says why."""

    reason: str
    scanner: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"scanned": False, "scanner": self.scanner, "reason": self.reason}


@dataclass(frozen=True)
class ScannerSpec:
    """Which scanner, where its binary is (None: look on PATH) and its database folder."""

    name: ScannerName
    db_dir: Path
    binary: Path | None = None
    timeout_s: float = SCAN_TIMEOUT_S


def count_findings(
    findings: Iterable[tuple[str, str, bool]], scanner: str, version: str | None, db: str | None
) -> VulnCounts:
    """VulnCounts of (identity, severity, fixable) triples; a repeated identity counts once."""
    tally = dict.fromkeys(SEVERITIES, 0)
    fixable = 0
    seen: set[str] = set()
    for identity, severity, has_fix in findings:
        if identity in seen:
            continue
        seen.add(identity)
        level = severity.lower() if severity.lower() in tally else "unknown"
        tally[level] += 1
        fixable += has_fix
    return VulnCounts(
        scanner=scanner, scanner_version=version, db_built=db, fixable=fixable, **tally
    )


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def trivy_findings(doc: Mapping[str, Any]) -> Iterable[tuple[str, str, bool]]:
    """(identity, Severity, fixable) of every ``Results[].Vulnerabilities[]`` entry."""
    for result in as_list(doc.get("Results")):
        for vuln in as_list(as_dict(result).get("Vulnerabilities")):
            vuln = as_dict(vuln)
            identity = "\0".join(
                str(vuln.get(key, ""))
                for key in ("VulnerabilityID", "PkgName", "InstalledVersion", "PkgPath")
            )
            yield identity, str(vuln.get("Severity") or "UNKNOWN"), bool(vuln.get("FixedVersion"))


def parse_trivy(
    doc: Mapping[str, Any], version: str | None = None, db_built: str | None = None
) -> VulnCounts:
    """Counts of a ``trivy ... --format json`` report (SchemaVersion 2).

    Severity is CRITICAL/HIGH/MEDIUM/LOW/UNKNOWN; a finding is fixable when it has a
    FixedVersion. The scanner version defaults to the report's own ``Trivy.Version``
    (written by recent trivy releases); the report carries no database date.
    """
    own_version = as_dict(doc.get("Trivy")).get("Version")
    return count_findings(trivy_findings(doc), "trivy", version or own_version, db_built)


def grype_fixable(fix: Mapping[str, Any]) -> bool:
    """grype's fix.state is fixed / not-fixed / wont-fix / unknown; fixed needs a version."""
    return fix.get("state") == GRYPE_FIXED_STATE and bool(as_list(fix.get("versions")))


def grype_findings(doc: Mapping[str, Any]) -> Iterable[tuple[str, str, bool]]:
    """(identity, severity, fixable) of every ``matches[]`` entry."""
    for match in as_list(doc.get("matches")):
        vuln = as_dict(as_dict(match).get("vulnerability"))
        artifact = as_dict(as_dict(match).get("artifact"))
        identity = "\0".join(
            str(value) for value in (vuln.get("id"), artifact.get("name"), artifact.get("version"))
        )
        fix = as_dict(vuln.get("fix"))
        yield identity, str(vuln.get("severity") or "Unknown"), grype_fixable(fix)


def grype_report_db_built(doc: Mapping[str, Any]) -> str | None:
    """``descriptor.db.built`` (older grype) or ``descriptor.db.status.built`` (newer)."""
    db = as_dict(as_dict(doc.get("descriptor")).get("db"))
    built = db.get("built") or as_dict(db.get("status")).get("built")
    return str(built) if built else None


def parse_grype(
    doc: Mapping[str, Any], version: str | None = None, db_built: str | None = None
) -> VulnCounts:
    """Counts of a ``grype ... -o json`` report.

    Severity is Critical/High/Medium/Low/Negligible/Unknown; fixable means fix.state
    "fixed" with at least one version. Version and database date default to the report's
    ``descriptor``.
    """
    descriptor = as_dict(doc.get("descriptor"))
    own_version = descriptor.get("version")
    return count_findings(
        grype_findings(doc),
        "grype",
        version or (str(own_version) if own_version else None),
        db_built or grype_report_db_built(doc),
    )


# ------------------------------------------------------------------ running a scanner


class ScanFailed(Exception):
    """The scanner could not give a usable answer; the message is the not-scanned reason."""


def run_json(command: list[str], env: Mapping[str, str], timeout_s: float) -> Any:
    """stdout of ``command`` parsed as JSON; ScanFailed on a timeout, an exit != 0, no JSON."""
    name = Path(command[0]).name
    try:
        proc = subprocess.run(
            command,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired as exc:
        raise ScanFailed(f"{NOT_SCANNED_PREFIX} {name} took longer than {timeout_s:g} s") from exc
    except OSError as exc:
        raise ScanFailed(f"{NOT_SCANNED_PREFIX} {name} could not be run: {exc}") from exc
    if proc.returncode != 0:
        tail = proc.stderr.strip()[-STDERR_TAIL_CHARS:] or "no error output"
        raise ScanFailed(f"{NOT_SCANNED_PREFIX} {name} exited {proc.returncode}: {tail}")
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        raise ScanFailed(f"{NOT_SCANNED_PREFIX} {name} printed no JSON: {exc}") from exc


def find_binary(spec: ScannerSpec) -> str | None:
    if spec.binary is not None:
        return str(spec.binary) if os.access(spec.binary, os.X_OK) else None
    return shutil.which(spec.name)


def has_database(spec: ScannerSpec) -> bool:
    if spec.name == "trivy":
        return (spec.db_dir / "db" / "trivy.db").is_file()
    return any(path.is_file() for path in spec.db_dir.glob("*/vulnerability.db"))


def scanner_env(spec: ScannerSpec) -> dict[str, str]:
    env = dict(os.environ)
    if spec.name == "grype":
        env.update(
            GRYPE_DB_CACHE_DIR=str(spec.db_dir),
            GRYPE_DB_AUTO_UPDATE="false",
            GRYPE_CHECK_FOR_APP_UPDATE="false",
            GRYPE_DB_VALIDATE_AGE="false",
        )
    else:
        # Recent trivy checks for a newer release and sends telemetry at start; older
        # releases ignore these variables, where flags would be rejected.
        env.update(TRIVY_SKIP_VERSION_CHECK="true", TRIVY_DISABLE_TELEMETRY="true")
    return env


def info_timeout(spec: ScannerSpec) -> float:
    """Timeout of the version and database queries: short, and never above the scan's."""
    return min(INFO_TIMEOUT_S, spec.timeout_s)


def scan_trivy(binary: str, sbom_path: Path, spec: ScannerSpec) -> VulnCounts:
    env = scanner_env(spec)
    cache = ["--cache-dir", str(spec.db_dir)]
    info = as_dict(
        run_json([binary, "version", "--format", "json", *cache], env, info_timeout(spec))
    )
    db_built = as_dict(info.get("VulnerabilityDB")).get("UpdatedAt")
    command = [binary, "sbom", "--format", "json", "--offline-scan", "--skip-db-update"]
    report = as_dict(run_json([*command, *cache, str(sbom_path)], env, spec.timeout_s))
    version = info.get("Version")
    return parse_trivy(report, str(version) if version else None, db_built)


def scan_grype(binary: str, sbom_path: Path, spec: ScannerSpec) -> VulnCounts:
    env = scanner_env(spec)
    info = as_dict(run_json([binary, "version", "-o", "json"], env, info_timeout(spec)))
    try:
        status = as_dict(run_json([binary, "db", "status", "-o", "json"], env, info_timeout(spec)))
    except ScanFailed as exc:  # grype exits 1 when the database is missing or invalid
        raise ScanFailed(f"{NOT_SCANNED_NO_DB} ({exc})") from exc
    if status.get("valid") is False:
        raise ScanFailed(f"{NOT_SCANNED_NO_DB} (grype db status: {status.get('error')})")
    report = as_dict(run_json([binary, f"sbom:{sbom_path}", "-o", "json"], env, spec.timeout_s))
    version = info.get("version")
    built = status.get("built")
    return parse_grype(report, str(version) if version else None, str(built) if built else None)


def scan(sbom_path: Path, scanner: ScannerSpec) -> VulnCounts | NotScanned:
    """Scan the SBOM at ``sbom_path`` offline; NotScanned (with why) instead of any failure."""
    binary = find_binary(scanner)
    if binary is None:
        where = str(scanner.binary) if scanner.binary else "PATH"
        return NotScanned(
            f"{NOT_SCANNED_PREFIX} no {scanner.name} binary ({where}); see README", scanner.name
        )
    if not has_database(scanner):
        return NotScanned(NOT_SCANNED_NO_DB, scanner.name)
    if not sbom_path.is_file():
        return NotScanned(f"{NOT_SCANNED_PREFIX} no SBOM at {sbom_path}", scanner.name)
    run = scan_trivy if scanner.name == "trivy" else scan_grype
    try:
        return run(binary, sbom_path, scanner)
    except ScanFailed as exc:
        return NotScanned(str(exc), scanner.name)


# -- reading recorded scans (results.json's ``sboms``) -------------------------------------


def recorded_scan(data: Any) -> VulnCounts | NotScanned:
    """A scan as publishing recorded it; an unreadable record is "not scanned", never 0."""
    if isinstance(data, Mapping) and data.get("scanned"):
        try:
            return VulnCounts.from_dict(data)
        except (KeyError, TypeError, ValueError):
            return NotScanned(f"{NOT_SCANNED_PREFIX} the recorded scan cannot be read")
    reason = data.get("reason") if isinstance(data, Mapping) else None
    return NotScanned(str(reason or NOT_SCANNED_NO_DB))


def _entries(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sboms = results.get("sboms")
    listed = sboms.get("sboms") if isinstance(sboms, Mapping) else None
    return [e for e in listed or [] if isinstance(e, Mapping)]


def _recorded_for(
    results: Mapping[str, Any], kind: str, subject: str, repeat: int, missing: str
) -> VulnCounts | NotScanned:
    """The scan of the ``kind`` SBOM of ``subject``; ``missing`` says why when it has none."""
    for entry in _entries(results):
        if (entry.get("kind"), entry.get("subject")) != (kind, subject):
            continue
        if kind == "base" or int(entry.get("repeat") or 0) == repeat:
            return recorded_scan(entry.get("vulnerabilities"))
    return NotScanned(NOT_LISTED if "sboms" not in results else f"{NOT_SCANNED_PREFIX} {missing}")


def base_scan(results: Mapping[str, Any], base: str) -> VulnCounts | NotScanned:
    """The base image's SBOM scan, or why there is none."""
    missing = f"no SBOM: no cell of {base} reported its contents"
    return _recorded_for(results, "base", base, 0, missing)


def cell_scan(results: Mapping[str, Any], cell: str, repeat: int = 0) -> VulnCounts | NotScanned:
    """One cell's SBOM scan (the base's packages plus the cell's), or why there is none."""
    return _recorded_for(results, "cell", cell, repeat, "no SBOM: the cell reported no contents")


# The severities always named in a count text, even at 0: the ones a decision turns on.
ALWAYS_NAMED = ("critical", "high")


def counts_text(counts: VulnCounts) -> str:
    """``"0 critical, 0 high, 23 low; 5 fixable"``: every non-zero severity, and these two."""
    named = [f"{n} {s}" for s, n in counts.by_severity().items() if n or s in ALWAYS_NAMED]
    return ", ".join(named) + f"; {counts.fixable} fixable"


def source_text(counts: VulnCounts) -> str:
    """``"trivy 0.58.1, DB built 2026-11-30"``: said next to every count, since counts
    move with the database."""
    version = f" {counts.scanner_version}" if counts.scanner_version else ""
    built = f"DB built {counts.db_built}" if counts.db_built else "DB date unknown"
    return f"{counts.scanner}{version}, {built}"


def scan_text(scan: VulnCounts | NotScanned) -> str:
    if isinstance(scan, NotScanned):
        return scan.reason
    return f"{counts_text(scan)} ({source_text(scan)})"


def scan_delta(a: VulnCounts | NotScanned, b: VulnCounts | NotScanned) -> str:
    """B − A by severity, or why the two cannot be subtracted."""
    if isinstance(a, NotScanned):
        return f"no difference can be given: {a.reason}"
    if isinstance(b, NotScanned):
        return f"no difference can be given: {b.reason}"
    if (a.scanner, a.db_built) != (b.scanner, b.db_built):
        return (
            f"not comparable: scanned with different databases ({source_text(a)}; {source_text(b)})"
        )
    changes = [
        f"{nb - na:+d} {s}"
        for (s, na), nb in zip(a.by_severity().items(), b.by_severity().values(), strict=True)
        if nb != na
    ]
    return ", ".join(changes) if changes else "the same counts"
