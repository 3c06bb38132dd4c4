"""``harness check``: the base images a pull request changes.

``harness check --list-changes`` lists every changed ``FROM`` (stage by stage) and compose
``image:`` between ``--base-ref`` (default: the merge base with the default branch) and
``--head-ref`` (default HEAD), as lines or as JSON. A reference it cannot resolve is
listed as such, never guessed. Listing is data: the exit code is 0 whatever changed;
2 for a bad flag, ref or path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from harness.analysis.basechanges import ChangeQuery, find_base_changes
from harness.model.baserefs import BaseChange, BaseChanges, ChangeKind, ImageRef, parse_build_args
from harness.model.errors import ConfigurationError
from harness.store.gitrefs import toplevel

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
        help="list the changed base images (running old against new is not built yet)",
    )
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
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    if not args.list_changes:
        raise ConfigurationError(
            "running old against new is not available yet: only the list of changes is",
            "pass --list-changes",
            key="--list-changes",
        )
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
    changes = find_base_changes(query)
    if args.format == "json":
        print(json.dumps(changes.to_dict(), indent=2))
    else:
        sys.stdout.write("".join(f"{line}\n" for line in render_lines(changes)))
    return 0


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
