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

Provenance: every scan records the scanner's name, version, the sha256 of its resolved
binary and its database's build date, and every count is said with them, since counts move
with the database and a scanner can be a tampered build: trivy 0.69.4 to 0.69.6 were
published compromised (CVE-2026-33634), and counts from those releases are flagged as not
trusted. A scan that does not happen says which scanner would have run and the command that
gives the counts here, built by the same ``scan_invocation`` the scan runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.model.errors import ResultsError
from harness.model.results import AnyResults, Results, Sboms, Scan, part_of

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
# Which scanner would run when matrix.yaml names none (settings.scanner).
ANY_SCANNER = "trivy or grype"
# Placeholder for the database folder in a command shown when no scanner is configured.
DB_PLACEHOLDER = "DB"
SHA256_SHOWN = 12  # hex digits of the binary's sha256 said beside counts
# Scanner releases published compromised: (scanner, first, last version, advisory).
COMPROMISED_RELEASES = (("trivy", (0, 69, 4), (0, 69, 6), "CVE-2026-33634"),)


def version_tuple(version: str) -> tuple[int, ...] | None:
    """(0, 69, 5) of "0.69.5" or "v0.69.5"; None when it is not dotted numbers."""
    core = version.strip().removeprefix("v").split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def compromised_warning(scanner: str | None, version: str | None) -> str | None:
    """``"trivy 0.69.5: a compromised release (CVE-2026-33634); counts not trusted"`` for a
    scanner release known to have been published compromised, else None."""
    found = version_tuple(version) if version else None
    for name, first, last, advisory in COMPROMISED_RELEASES:
        if scanner == name and found is not None and first <= found <= last:
            return f"{name} {version}: a compromised release ({advisory}); counts not trusted"
    return None


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
    # The binary that ran: its sha256 and resolved path (set by ``with_binary``; kept out of
    # __init__ so that callers passing severities as **counts stay well typed).
    scanner_sha256: str | None = field(default=None, init=False)
    scanner_path: str | None = field(default=None, init=False)

    def with_binary(self, path: str | None, sha256: str | None) -> VulnCounts:
        """These counts, as produced by the binary at ``path`` with that sha256."""
        counts = replace(self)
        object.__setattr__(counts, "scanner_sha256", sha256)  # frozen: set once, here
        object.__setattr__(counts, "scanner_path", path)
        return counts

    @property
    def total(self) -> int:
        return sum(self.by_severity().values())

    def by_severity(self) -> dict[str, int]:
        return {severity: getattr(self, severity) for severity in SEVERITIES}

    def to_scan(self) -> Scan:
        """The scan as results.json records it (``sboms.sboms[].vulnerabilities``)."""
        return Scan(
            scanned=True,
            scanner=self.scanner,
            scanner_version=self.scanner_version,
            db_built=self.db_built,
            scanner_sha256=self.scanner_sha256,
            scanner_path=self.scanner_path,
            by_severity=self.by_severity(),
            fixable=self.fixable,
            total=self.total,
        )

    @classmethod
    def from_scan(cls, scan: Scan) -> VulnCounts:
        """The counts of a recorded scan; ValueError when they are not whole (no scanner,
        a total that is not the sum of its severities)."""
        if not scan.scanned or not scan.scanner:
            raise ValueError("not a scan with counts")
        severities = scan.by_severity or {}
        counts = cls(
            scanner=scan.scanner,
            scanner_version=scan.scanner_version,
            db_built=scan.db_built,
            fixable=scan.fixable or 0,
            **{severity: severities.get(severity, 0) for severity in SEVERITIES},
        ).with_binary(scan.scanner_path, scan.scanner_sha256)
        if scan.total is not None and scan.total != counts.total:
            raise ValueError(f"total {scan.total} is not the sum of by_severity")
        return counts

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> VulnCounts:
        return cls.from_scan(Scan.from_dict(data, "scan"))


@dataclass(frozen=True)
class NotScanned:
    """No scan happened (or its output could not be used); ``reason`` says why, which
    scanner would have run and (when one could) the command that gives the counts here.

    ``command`` is that command alone; the scanner's version and binary sha256 are kept
    when its binary was found, so a reader sees which build would have answered.
    """

    reason: str
    scanner: str | None = None
    command: str | None = None
    scanner_version: str | None = None
    scanner_sha256: str | None = None

    def to_scan(self) -> Scan:
        """The reason as results.json records it (``sboms.sboms[].vulnerabilities``)."""
        return Scan(
            scanned=False,
            scanner=self.scanner,
            reason=self.reason,
            command=self.command,
            scanner_version=self.scanner_version,
            scanner_sha256=self.scanner_sha256,
        )


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


# -- the scanners' JSON, read once into types (only the fields counted here) ----------------


class ScannerJson(BaseModel):
    """A scanner's JSON output: lax (a number where text is expected is taken as text),
    unknown fields ignored, read once; a shape that does not fit is a failed scan
    (``read_json``), never a count of 0."""

    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class TrivyFinding(ScannerJson):
    vulnerability_id: str | None = Field(None, alias="VulnerabilityID")
    package: str | None = Field(None, alias="PkgName")
    installed_version: str | None = Field(None, alias="InstalledVersion")
    package_path: str | None = Field(None, alias="PkgPath")
    severity: str | None = Field(None, alias="Severity")
    fixed_version: str | None = Field(None, alias="FixedVersion")

    @property
    def identity(self) -> str:
        parts = (self.vulnerability_id, self.package, self.installed_version, self.package_path)
        return "\0".join(part or "" for part in parts)


class TrivyTarget(ScannerJson):
    vulnerabilities: list[TrivyFinding] | None = Field(None, alias="Vulnerabilities")


class TrivyTool(ScannerJson):
    version: str | None = Field(None, alias="Version")


class TrivyReport(ScannerJson):
    """``trivy sbom --format json`` (SchemaVersion 2)."""

    results: list[TrivyTarget] | None = Field(None, alias="Results")
    trivy: TrivyTool | None = Field(None, alias="Trivy")


class TrivyDatabase(ScannerJson):
    updated_at: str | None = Field(None, alias="UpdatedAt")


class TrivyVersion(ScannerJson):
    """``trivy version --format json``."""

    version: str | None = Field(None, alias="Version")
    database: TrivyDatabase | None = Field(None, alias="VulnerabilityDB")


class GrypeFix(ScannerJson):
    state: str | None = None  # fixed | not-fixed | wont-fix | unknown
    versions: list[str] | None = None


class GrypeVulnerability(ScannerJson):
    id: str | None = None
    severity: str | None = None
    fix: GrypeFix | None = None


class GrypeArtifact(ScannerJson):
    name: str | None = None
    version: str | None = None


class GrypeMatch(ScannerJson):
    vulnerability: GrypeVulnerability = GrypeVulnerability()
    artifact: GrypeArtifact = GrypeArtifact()


class GrypeDbStatus(ScannerJson):
    """``grype db status -o json`` (and ``descriptor.db.status`` of a newer report)."""

    built: str | None = None
    valid: bool | None = None
    error: str | None = None


class GrypeDb(GrypeDbStatus):
    status: GrypeDbStatus | None = None  # newer grype; older ones put ``built`` here


class GrypeDescriptor(ScannerJson):
    version: str | None = None
    db: GrypeDb | None = None


class GrypeReport(ScannerJson):
    """``grype sbom:FILE -o json``."""

    matches: list[GrypeMatch] | None = None
    descriptor: GrypeDescriptor | None = None


class GrypeVersion(ScannerJson):
    """``grype version -o json``."""

    version: str | None = None


J = TypeVar("J", bound=ScannerJson)


def read_json(kind: type[J], data: object, what: str) -> J:
    """``data`` as ``kind``, or ScanFailed naming the field that does not fit."""
    try:
        return kind.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the top level"
        raise ScanFailed(
            f"{NOT_SCANNED_PREFIX} {what} is not in the shape this harness reads "
            f"({where}: {first['msg']})"
        ) from None


def trivy_findings(report: TrivyReport) -> Iterable[tuple[str, str, bool]]:
    """(identity, Severity, fixable) of every ``Results[].Vulnerabilities[]`` entry."""
    for target in report.results or []:
        for finding in target.vulnerabilities or []:
            yield finding.identity, finding.severity or "UNKNOWN", bool(finding.fixed_version)


def parse_trivy(
    doc: TrivyReport | Mapping[str, object], version: str | None = None, db_built: str | None = None
) -> VulnCounts:
    """Counts of a ``trivy ... --format json`` report (SchemaVersion 2).

    Severity is CRITICAL/HIGH/MEDIUM/LOW/UNKNOWN; a finding is fixable when it has a
    FixedVersion. The scanner version defaults to the report's own ``Trivy.Version``
    (written by recent trivy releases); the report carries no database date.
    """
    report = doc if isinstance(doc, TrivyReport) else read_json(TrivyReport, doc, "trivy's report")
    own_version = report.trivy.version if report.trivy else None
    return count_findings(trivy_findings(report), "trivy", version or own_version, db_built)


def grype_fixable(fix: GrypeFix | None) -> bool:
    """grype's fix.state is fixed / not-fixed / wont-fix / unknown; fixed needs a version."""
    return fix is not None and fix.state == GRYPE_FIXED_STATE and bool(fix.versions)


def grype_findings(report: GrypeReport) -> Iterable[tuple[str, str, bool]]:
    """(identity, severity, fixable) of every ``matches[]`` entry."""
    for match in report.matches or []:
        vuln, artifact = match.vulnerability, match.artifact
        identity = "\0".join(str(value) for value in (vuln.id, artifact.name, artifact.version))
        yield identity, vuln.severity or "Unknown", grype_fixable(vuln.fix)


def grype_report_db_built(report: GrypeReport) -> str | None:
    """``descriptor.db.built`` (older grype) or ``descriptor.db.status.built`` (newer)."""
    db = report.descriptor.db if report.descriptor else None
    if db is None:
        return None
    return db.built or (db.status.built if db.status else None) or None


def parse_grype(
    doc: GrypeReport | Mapping[str, object], version: str | None = None, db_built: str | None = None
) -> VulnCounts:
    """Counts of a ``grype ... -o json`` report.

    Severity is Critical/High/Medium/Low/Negligible/Unknown; fixable means fix.state
    "fixed" with at least one version. Version and database date default to the report's
    ``descriptor``.
    """
    report = doc if isinstance(doc, GrypeReport) else read_json(GrypeReport, doc, "grype's report")
    own_version = report.descriptor.version if report.descriptor else None
    return count_findings(
        grype_findings(report),
        "grype",
        version or own_version or None,
        db_built or grype_report_db_built(report),
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


def grype_env(db_dir: str | Path) -> dict[str, str]:
    """What grype needs to scan offline from the database in ``db_dir``."""
    return {
        "GRYPE_DB_CACHE_DIR": str(db_dir),
        "GRYPE_DB_AUTO_UPDATE": "false",
        "GRYPE_CHECK_FOR_APP_UPDATE": "false",
        "GRYPE_DB_VALIDATE_AGE": "false",
    }


def scan_invocation(
    name: str, binary: str, db_dir: str | Path, sbom: str | Path
) -> tuple[list[str], dict[str, str]]:
    """The scan's argv and the environment it needs: the one definition the scan runs and
    the not-scanned reason shows."""
    if name == "grype":
        return [binary, f"sbom:{sbom}", "-o", "json"], grype_env(db_dir)
    flags = ["--format", "json", "--offline-scan", "--skip-db-update", "--cache-dir", str(db_dir)]
    return [binary, "sbom", *flags, str(sbom)], {}


def command_text(name: str, binary: str, db_dir: str | Path, sbom: str | Path) -> str:
    """The scan as a shell command line (its environment as leading assignments)."""
    argv, env = scan_invocation(name, binary, db_dir, sbom)
    return shlex.join([*(f"{key}={value}" for key, value in env.items()), *argv])


def version_argv(binary: str, spec: ScannerSpec) -> list[str]:
    """The version query (trivy's also reports its database's date)."""
    if spec.name == "grype":
        return [binary, "version", "-o", "json"]
    return [binary, "version", "--format", "json", "--cache-dir", str(spec.db_dir)]


def scanner_env(spec: ScannerSpec) -> dict[str, str]:
    env = dict(os.environ)
    if spec.name == "grype":
        env.update(grype_env(spec.db_dir))
    else:
        # Recent trivy checks for a newer release and sends telemetry at start; older
        # releases ignore these variables, where flags would be rejected.
        env.update(TRIVY_SKIP_VERSION_CHECK="true", TRIVY_DISABLE_TELEMETRY="true")
    return env


def info_timeout(spec: ScannerSpec) -> float:
    """Timeout of the version and database queries: short, and never above the scan's."""
    return min(INFO_TIMEOUT_S, spec.timeout_s)


@lru_cache(maxsize=16)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    """sha256 of a file, hashed once per (path, mtime, size): a run scans many SBOMs."""
    del mtime_ns, size  # the cache key only
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def binary_identity(binary: str) -> tuple[str, str | None]:
    """(resolved path, sha256) of the executable that runs; sha256 None when unreadable."""
    resolved = Path(binary).resolve()
    try:
        stat = resolved.stat()
        return str(resolved), _file_sha256(str(resolved), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return str(resolved), None


def query_version(binary: str, spec: ScannerSpec) -> str | None:
    """The scanner's own version, or None when it cannot say."""
    kind: type[TrivyVersion | GrypeVersion] = TrivyVersion if spec.name == "trivy" else GrypeVersion
    try:
        found = run_json(version_argv(binary, spec), scanner_env(spec), info_timeout(spec))
        info = read_json(kind, found, "the version")
    except ScanFailed:
        return None
    return info.version or None


def scan_trivy(binary: str, sbom_path: Path, spec: ScannerSpec) -> VulnCounts:
    env = scanner_env(spec)
    info = read_json(
        TrivyVersion,
        run_json(version_argv(binary, spec), env, info_timeout(spec)),
        "trivy's version",
    )
    command, _ = scan_invocation(spec.name, binary, spec.db_dir, sbom_path)
    report = read_json(TrivyReport, run_json(command, env, spec.timeout_s), "trivy's report")
    db_built = info.database.updated_at if info.database else None
    return parse_trivy(report, info.version or None, db_built)


def scan_grype(binary: str, sbom_path: Path, spec: ScannerSpec) -> VulnCounts:
    env = scanner_env(spec)
    info = read_json(
        GrypeVersion,
        run_json(version_argv(binary, spec), env, info_timeout(spec)),
        "grype's version",
    )
    try:
        found = run_json([binary, "db", "status", "-o", "json"], env, info_timeout(spec))
    except ScanFailed as exc:  # grype exits 1 when the database is missing or invalid
        raise ScanFailed(f"{NOT_SCANNED_NO_DB} ({exc})") from exc
    status = read_json(GrypeDbStatus, found, "grype db status")
    if status.valid is False:
        raise ScanFailed(f"{NOT_SCANNED_NO_DB} (grype db status: {status.error})")
    command, _ = scan_invocation(spec.name, binary, spec.db_dir, sbom_path)
    report = read_json(GrypeReport, run_json(command, env, spec.timeout_s), "grype's report")
    return parse_grype(report, info.version or None, status.built or None)


def gives_counts(command: str, shown: str | None) -> str:
    """The sentence that hands a reader the command for the counts."""
    where = " from the run folder" if shown and not Path(shown).is_absolute() else ""
    return f"`{command}`{where} gives the counts here"


def not_scanned_without_scanner(sbom: str) -> NotScanned:
    """No scanner in matrix.yaml: which would run, and trivy's command for this SBOM (``sbom``
    as the run folder names it), with DB standing for the database folder."""
    command = command_text("trivy", "trivy", DB_PLACEHOLDER, sbom)
    return NotScanned(
        f"{NOT_SCANNED_NO_DB} (no scanner in matrix.yaml's settings: {ANY_SCANNER} would run); "
        f"with trivy and its database in {DB_PLACEHOLDER}, {gives_counts(command, sbom)}",
        None,
        command,
    )


def scan(
    sbom_path: Path, scanner: ScannerSpec, shown: str | None = None
) -> VulnCounts | NotScanned:
    """Scan the SBOM at ``sbom_path`` offline; NotScanned (with why, and the command that
    gives the counts) instead of any failure. ``shown`` is the SBOM's path as documents name
    it (relative to the run folder); default ``sbom_path``. Counts carry the binary's path
    and sha256."""
    name = scanner.name
    sbom_shown = shown or str(sbom_path)
    shown_binary = str(scanner.binary) if scanner.binary else name
    command = command_text(name, shown_binary, scanner.db_dir, sbom_shown)
    binary = find_binary(scanner)
    if binary is None:
        where = str(scanner.binary) if scanner.binary else "PATH"
        return NotScanned(
            f"{NOT_SCANNED_PREFIX} no {name} binary ({where}); see README; with it, "
            f"{gives_counts(command, shown)}",
            name,
            command,
        )
    path, sha256 = binary_identity(binary)
    if not has_database(scanner):
        version = query_version(binary, scanner)
        return NotScanned(
            f"{NOT_SCANNED_NO_DB} ({identity_text(name, version, sha256)} has none in "
            f"{scanner.db_dir}); with it, {gives_counts(command, shown)}",
            name,
            command,
            version,
            sha256,
        )
    if not sbom_path.is_file():
        return NotScanned(f"{NOT_SCANNED_PREFIX} no SBOM at {sbom_path}", name, command)
    run = scan_trivy if name == "trivy" else scan_grype
    try:
        counts = run(binary, sbom_path, scanner)
    except ScanFailed as exc:
        reason = f"{exc}; the scan: `{command}`"
        return NotScanned(reason, name, command, scanner_sha256=sha256)
    return counts.with_binary(path, sha256)


# -- reading recorded scans (results.json's ``sboms``) -------------------------------------


def recorded_scan(data: Scan | Mapping[str, object] | None) -> VulnCounts | NotScanned:
    """A scan as publishing recorded it; an unreadable record is "not scanned", never 0."""
    if data is None:
        return NotScanned(NOT_SCANNED_NO_DB)
    try:
        scan = data if isinstance(data, Scan) else Scan.from_dict(data, "scan")
    except ResultsError:
        return NotScanned(f"{NOT_SCANNED_PREFIX} the recorded scan cannot be read")
    if scan.scanned:
        try:
            return VulnCounts.from_scan(scan)
        except ValueError:
            return NotScanned(f"{NOT_SCANNED_PREFIX} the recorded scan cannot be read")
    return NotScanned(
        scan.reason or NOT_SCANNED_NO_DB,
        scan.scanner or None,
        scan.command or None,
        scan.scanner_version or None,
        scan.scanner_sha256 or None,
    )


def _sboms(results: AnyResults) -> Sboms | None:
    """The run's SBOM list (a dict of results is read for this part alone: the callers
    not converted yet call this once per base or cell)."""
    if isinstance(results, Results):
        return results.sboms
    return part_of(results, "sboms", Sboms)


def _recorded_for(
    results: AnyResults, kind: str, subject: str, repeat: int, missing: str
) -> VulnCounts | NotScanned:
    """The scan of the ``kind`` SBOM of ``subject``; ``missing`` says why when it has none."""
    sboms = _sboms(results)
    if sboms is None:
        return NotScanned(NOT_LISTED)
    for entry in sboms.sboms:
        if (entry.kind, entry.subject) != (kind, subject):
            continue
        if kind == "base" or (entry.repeat or 0) == repeat:
            return recorded_scan(entry.vulnerabilities)
    return NotScanned(f"{NOT_SCANNED_PREFIX} {missing}")


def base_scan(results: AnyResults, base: str) -> VulnCounts | NotScanned:
    """The base image's SBOM scan, or why there is none."""
    missing = f"no SBOM: no cell of {base} reported its contents"
    return _recorded_for(results, "base", base, 0, missing)


def cell_scan(results: AnyResults, cell: str, repeat: int = 0) -> VulnCounts | NotScanned:
    """One cell's SBOM scan (the base's packages plus the cell's), or why there is none."""
    return _recorded_for(results, "cell", cell, repeat, "no SBOM: the cell reported no contents")


# The severities always named in a count text, even at 0: the ones a decision turns on.
ALWAYS_NAMED = ("critical", "high")


def counts_text(counts: VulnCounts) -> str:
    """``"0 critical, 0 high, 23 low; 5 fixable"``: every non-zero severity, and these two."""
    named = [f"{n} {s}" for s, n in counts.by_severity().items() if n or s in ALWAYS_NAMED]
    return ", ".join(named) + f"; {counts.fixable} fixable"


def identity_text(scanner: str, version: str | None, sha256: str | None) -> str:
    """``"trivy 0.58.0, sha256:1a2b3c4d5e6f"``: the scanner build, as short as it can be said."""
    text = scanner + (f" {version}" if version else "")
    return text + (f", sha256:{sha256[:SHA256_SHOWN]}" if sha256 else "")


def source_text(counts: VulnCounts) -> str:
    """``"trivy 0.58.0, sha256:1a2b3c4d5e6f, DB built 2026-11-30"``: said next to every
    count, since counts move with the database and the scanner build; a compromised release
    adds its warning."""
    built = f"DB built {counts.db_built}" if counts.db_built else "DB date unknown"
    text = (
        f"{identity_text(counts.scanner, counts.scanner_version, counts.scanner_sha256)}, {built}"
    )
    warning = compromised_warning(counts.scanner, counts.scanner_version)
    return f"{text}; {warning}" if warning else text


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
    for side in (a, b):
        warning = compromised_warning(side.scanner, side.scanner_version)
        if warning:
            return f"no difference can be given: {warning}"
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
