"""``harness check``: a verdict on every base-image bump of a pull request.

Finds every changed ``FROM`` (stage by stage) and compose ``image:`` between ``--base-ref``
(default: the merge base with the default branch) and ``--head-ref`` (default HEAD), then
runs the team's depsets on the old and the new reference of each (unchanged bases are not
run): the depsets of ``--matrix FILE``, or one project depset made of ``--requirements``,
``--lockfile`` and ``--tests``. A reference it cannot resolve is named, never guessed.

``--comment FILE`` writes the verdict's Markdown (one line per changed base first, under
GitHub's comment limit); with GITHUB_STEP_SUMMARY set, the same goes to the job summary;
``--json FILE`` writes it for bots. Exit: 0, or 1 when ``--fail-on`` says so (default:
the new base breaks something the old one passed); 2 for a user mistake; 3 without a
Docker engine. ``--list-changes`` only lists the changes (exit 0 whatever changed).

examples:
  harness check --requirements requirements.txt --tests "pytest -q" --comment check.md
  harness check --matrix matrix.yaml --base-ref origin/main --json check.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.analysis.basechanges import ChangeQuery, find_base_changes
from harness.analysis.check import (
    DEFAULT_FAIL_ON,
    PROJECT_DEPSET,
    CheckReport,
    MatrixPart,
    base_pairs,
    check_matrix_data,
    check_verdict,
    matrix_depsets,
    parse_fail_on,
    project_depset,
)
from harness.documents.check import (
    COMMENT_BYTES,
    SUMMARY_BYTES,
    fail_on_help,
    render_comment,
    verdict_line,
)
from harness.model.baserefs import BaseChange, BaseChanges, ChangeKind, ImageRef, parse_build_args
from harness.model.errors import ConfigurationError
from harness.model.matrix import Matrix, load_matrix, matrix_from_data
from harness.model.results import Results
from harness.store.files import CHECK_JSON, CHECK_MD, REPORT_HTML, RESULTS_JSON, SUMMARY_MD
from harness.store.gitrefs import toplevel
from harness.store.rundir import write_atomic

# The matrix harness check builds in memory: no file is written there; it sits beside the
# team's matrix (or at the repository's root for the project's own files) so relative
# paths hold, and its name keeps its runs apart from the team's matrix in the history.
PROJECT_MATRIX = "harness-check.yaml"
INTERRUPTED = 130

DIGEST_SHOWN = len("sha256:") + 12


def add_command(sub: Any) -> None:
    check = sub.add_parser(
        "check",
        help="the base images changed between two git refs (for pull requests)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--list-changes",
        action="store_true",
        help="only list the changed base images (no run; exit 0 whatever changed)",
    )
    what = check.add_argument_group(
        "what runs on each changed base (--matrix, or the project's own files)"
    )
    what.add_argument(
        "--matrix",
        metavar="FILE",
        help="a harness matrix: its depsets (and settings) run on each old and new base; "
        "its own bases are not used",
    )
    what.add_argument("--requirements", metavar="FILE", help="the project's requirements file")
    what.add_argument(
        "--lockfile", metavar="FILE", help="the project's uv.lock, poetry.lock or pylock.toml"
    )
    what.add_argument(
        "--tests", metavar="CMD", help='the project\'s test command, e.g. "pytest -q tests"'
    )
    out = check.add_argument_group("outputs")
    out.add_argument("--comment", metavar="FILE", help="write the verdict's Markdown here")
    out.add_argument("--json", metavar="FILE", help="write the verdict as JSON here (for bots)")
    out.add_argument(
        "--fail-on",
        default=DEFAULT_FAIL_ON,
        metavar="WORDS",
        help=f"comma-separated; exit 1 when one applies (default {DEFAULT_FAIL_ON}). "
        + fail_on_help(),
    )
    out.add_argument("--out", metavar="DIR", help="the run directory (default reports/<run id>)")
    out.add_argument("--jobs", type=int, help="cells at a time (default: the matrix's jobs)")
    check.add_argument(
        "--base-ref", help="the ref before the change (default: merge base with the default branch)"
    )
    check.add_argument("--head-ref", default="HEAD", help="the ref after it (default HEAD)")
    check.add_argument(
        "--dockerfile",
        action="append",
        default=[],
        metavar="FILE",
        help="a Dockerfile to read (repeatable). Without --dockerfile and --compose: every "
        "Dockerfile, *.Dockerfile, Dockerfile.*, Containerfile and compose file found at "
        "either ref, outside vendored folders; with either, only the files given",
    )
    check.add_argument(
        "--compose",
        action="append",
        default=[],
        metavar="FILE",
        help="a compose file to read (repeatable); the .env beside it is read too",
    )
    check.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value for a global ARG, as `docker build --build-arg` (repeatable)",
    )
    check.add_argument(
        "--repo",
        default=".",
        metavar="DIR",
        help="the repository (default: the current directory); FILE paths are relative to it",
    )
    check.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="how --list-changes prints the changes (default text)",
    )
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    # Step 1: every flag checked before git or the engine is asked anything.
    fail_on = _checked_flags(args)
    try:
        build_args = parse_build_args(args.build_arg, os.environ)
    except ValueError as err:
        raise ConfigurationError(
            f"{err} is not NAME=VALUE", "e.g. --build-arg BASE=python:3.13-slim", key="--build-arg"
        ) from err
    repo = Path(args.repo)
    top = toplevel(repo)
    query = ChangeQuery(
        repo=repo,
        base_ref=args.base_ref,
        head_ref=args.head_ref,
        dockerfiles=tuple(_in_repo(top, repo, p, "--dockerfile") for p in args.dockerfile),
        composes=tuple(_in_repo(top, repo, p, "--compose") for p in args.compose),
        build_args=build_args,
    )
    if args.list_changes:
        changes = find_base_changes(query)
        if args.format == "json":
            print(json.dumps(changes.to_dict(), indent=2))
        else:
            sys.stdout.write("".join(f"{line}\n" for line in render_lines(changes)))
        return 0
    # Step 2: what runs (the matrix's depsets, or the project's), checked before any change
    # is looked for, so a typo is exit 2 at once.
    matrix_path, settings, depsets, cells = _what_runs(args, top, repo)
    # Step 3: the changes, and the pairs worth running.
    changes = find_base_changes(query)
    pairs, not_run = base_pairs(changes)
    results: Results | None = None
    run_dir: Path | None = None
    if pairs:
        # Step 4: the run, in-process through the pipeline, on a matrix built in memory.
        from harness.pipeline import steps

        matrix = _build_matrix(
            check_matrix_data(pairs, depsets, settings, cells), matrix_path, project=not args.matrix
        )
        outcome = steps.run(
            steps.RunOptions(matrix=str(matrix_path), out=args.out, jobs=args.jobs, loaded=matrix)
        )
        run_dir = outcome.out_dir
        results_file = run_dir / RESULTS_JSON
        if outcome.exit_code == INTERRUPTED or not results_file.exists():
            print(f"harness check: the run stopped before its results ({run_dir})", file=sys.stderr)
            return outcome.exit_code or 1
        results = Results.from_json(results_file.read_text(encoding="utf-8"), str(results_file))
    # Step 5: the verdict, and every output from it.
    report = check_verdict(
        changes, pairs, not_run, results, _links(run_dir), str(run_dir) if run_dir else None
    )
    _write_outputs(args, report, fail_on, run_dir)
    return report.exit_code(fail_on)


def _checked_flags(args: argparse.Namespace) -> frozenset[str]:
    """--fail-on's words, once every flag is known to make sense together."""
    project_flags = [f for f in ("requirements", "lockfile", "tests") if getattr(args, f)]
    fail_on = parse_fail_on(args.fail_on)
    if not args.list_changes:
        if args.matrix and project_flags:
            raise ConfigurationError(
                f"given with --{project_flags[0]}: both say what to run",
                "give --matrix FILE alone, or the project's files alone",
                key="--matrix",
            )
        if not args.matrix and not project_flags:
            raise ConfigurationError(
                "nothing to run on the changed bases",
                "pass --matrix FILE, or --requirements FILE / --lockfile FILE / --tests CMD "
                "(or --list-changes to list the changes only)",
                key="--matrix",
            )
        if args.jobs is not None and args.jobs < 1:
            raise ConfigurationError(
                f"{args.jobs}: must be 1 or more", "pass e.g. --jobs 2", key="--jobs"
            )
    return fail_on


def _what_runs(
    args: argparse.Namespace, top: Path, repo: Path
) -> tuple[Path, dict[str, object], dict[str, MatrixPart], dict[str, object]]:
    """(where the matrix's paths start, its settings, depsets and cell rules)."""
    if args.matrix:
        matrix_file = (repo / args.matrix).resolve()
        # Beside the matrix (its relative paths hold), under a name of its own: the run's
        # history entry must not pass for a run of the team's matrix in later diffs.
        return (matrix_file.parent / PROJECT_MATRIX, *matrix_depsets(load_matrix(matrix_file)))
    else:
        matrix_path = top / PROJECT_MATRIX
        requirements, lockfile = (
            _existing(top, repo, getattr(args, f), f"--{f}") if getattr(args, f) else None
            for f in ("requirements", "lockfile")
        )
        project = project_depset(
            requirements,
            lockfile,
            args.tests,
            (top / "pyproject.toml").is_file(),
        )
        depsets: dict[str, MatrixPart] = {PROJECT_DEPSET: project}
        # Checked now, on a stand-in base, so a bad file is exit 2 before any run.
        _build_matrix({"version": 1, "bases": {"any": {"image": "python"}}, "depsets": depsets},
                      matrix_path, project=True)  # fmt: skip
        return matrix_path, {}, depsets, {}


# The project depset's keys and the flags they come from (a problem names the flag).
FLAG_OF_KEY = (
    ("lockfile", "--lockfile"),
    ("requirements", "--requirements"),
    ("project", "--lockfile"),
    ("tests", "--tests"),
    ("source", "--tests"),
)


def _build_matrix(data: Mapping[str, object], path: Path, *, project: bool) -> Matrix:
    """The check's matrix from data; for the project's depset (no file of the user's), a
    problem names the command-line flag its value came from instead of the matrix key."""
    try:
        return matrix_from_data(data, path)
    except ConfigurationError as err:
        if not project:
            raise
        problems: list[ConfigurationError] = []
        for problem in err.problems:
            if problem.file != str(path):  # in a file of the user's (a requirements file)
                problems.append(ConfigurationError(problem.message, problem.fix,
                                                   file=problem.file, line=problem.line,
                                                   key=problem.key))  # fmt: skip
                continue
            parts = (problem.key or "").split(".")
            field = parts[2] if parts[:2] == ["depsets", PROJECT_DEPSET] and len(parts) > 2 else ""
            flag = dict(FLAG_OF_KEY).get(field)
            fix = (problem.fix or "").replace(
                "list that under `requirements`", "pass that with --requirements"
            )
            problems.append(
                ConfigurationError(problem.message, fix or None, key=flag or problem.key)
            )
        raise ConfigurationError.of(problems) from None


def _write_outputs(
    args: argparse.Namespace, report: CheckReport, fail_on: frozenset[str], run_dir: Path | None
) -> None:
    comment = render_comment(report, fail_on, COMMENT_BYTES)
    data = json.dumps(report.to_dict(fail_on), indent=2, ensure_ascii=False) + "\n"
    if run_dir is not None:  # kept with the run (the CI artifact)
        write_atomic(run_dir / CHECK_MD, comment)
        write_atomic(run_dir / CHECK_JSON, data)
    if args.comment:
        write_atomic(Path(args.comment), comment)
    if args.json:
        write_atomic(Path(args.json), data)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as stream:
            stream.write(render_comment(report, fail_on, SUMMARY_BYTES))
    for verdict in report.verdicts:
        print(f"harness check: {verdict_line(verdict)}")
    for reason in report.failures(fail_on):
        print(f"harness check: fails on {reason}")
    if not report.verdicts:
        print("harness check: no changed base to run")


def _links(run_dir: Path | None) -> list[tuple[str, str]]:
    """The CI run (GitHub Actions or GitLab), then the run's own documents."""
    links: list[tuple[str, str]] = []
    server, repo, run = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repo and run:
        links.append(("the CI run and its artifact", f"{server}/{repo}/actions/runs/{run}"))
    elif os.environ.get("CI_JOB_URL"):
        links.append(("the CI job and its artifact", os.environ["CI_JOB_URL"]))
    if run_dir is not None:
        for name in (REPORT_HTML, SUMMARY_MD, RESULTS_JSON):
            if (run_dir / name).exists():
                links.append((name, str(run_dir / name)))
    return links


def _existing(top: Path, repo: Path, path: str, flag: str) -> str:
    """A project file given on the command line: in the repository, and there."""
    inside = _in_repo(top, repo, path, flag)
    if not (top / inside).is_file():
        raise ConfigurationError(
            f"{path}: no such file in {top}",
            "give the path relative to --repo (the repository's root by default)",
            key=flag,
        )
    return inside


def _in_repo(top: Path, repo: Path, path: str, flag: str) -> str:
    """``path`` (relative to ``repo``) as git names it: relative to the root, '/'-separated."""
    full = (repo / path).resolve()
    try:
        return full.relative_to(top.resolve()).as_posix()
    except ValueError:
        raise ConfigurationError(
            f"{path} is outside the repository {top}",
            "give a path inside the repository (relative to --repo)",
            key=flag,
        ) from None


def _short(image: ImageRef) -> str:
    digest = image.digest or ""
    shown = f"@{digest[:DIGEST_SHOWN]}…" if len(digest) > DIGEST_SHOWN else f"@{digest}"
    return image.familiar_name_tag + (shown if digest else "")


def _digest(image: ImageRef) -> str:
    digest = image.digest
    if digest is None:
        return "(none)"
    return f"{digest[:DIGEST_SHOWN]}…" if len(digest) > DIGEST_SHOWN else digest


def change_line(change: BaseChange) -> str:
    """One change, e.g. ``python:3.11-slim → python:3.13-slim (Dockerfile, stage builder)``."""
    where = f"{change.file}, {change.where}"
    old = change.old.image if change.old else None
    new = change.new.image if change.new else None
    if change.kind is ChangeKind.ADDED and new is not None:
        return f"added: {_short(new)} ({where})"
    if change.kind is ChangeKind.REMOVED and old is not None:
        return f"removed: {_short(old)} ({where})"
    assert old is not None and new is not None and change.old and change.new
    if change.kind is ChangeKind.DIGEST:
        return (
            f"{new.familiar_name_tag}: digest {_digest(old)} → {_digest(new)} (same tag; {where})"
        )
    if change.kind is ChangeKind.PLATFORM:
        return (
            f"{new.familiar_name_tag}: platform {change.old.platform or '(default)'} → "
            f"{change.new.platform or '(default)'} ({where})"
        )
    return f"{_short(old)} → {_short(new)} ({where})"


def render_lines(changes: BaseChanges) -> list[str]:
    lines = [change_line(c) for c in changes.changes]
    for item in changes.unresolved:
        sides = " and ".join(item.sides)
        lines.append(f"cannot resolve ({sides}): {item.use.located}: {item.use.problem}")
    span = (
        f"{changes.base.ref} ({changes.base.commit[:12]}) and "
        f"{changes.head.ref} ({changes.head.commit[:12]})"
    )
    count = len(changes.changes)
    summary = f"{count} base image change(s) between {span}"
    if not count:
        summary = f"no base image changed between {span}"
    if changes.unresolved:
        summary += f"; {len(changes.unresolved)} reference(s) not resolved (see above)"
    if not changes.files:
        summary += "; no Dockerfile or compose file found"
    return [*lines, summary]
