"""The base images that changed between two git refs of a repository (``harness check``).

The Dockerfiles and compose files given are read at both refs (or, when none is given,
every one either ref holds outside vendored folders); each is parsed by
``model.baserefs`` and its uses compared, stage by stage and service by service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from harness.model.baserefs import (
    BaseChange,
    BaseChanges,
    BaseUse,
    GitSide,
    Unresolved,
    compare_uses,
    parse_compose,
    parse_dockerfile,
    parse_dotenv,
)
from harness.model.errors import ConfigurationError
from harness.store import gitrefs


@dataclass(frozen=True)
class ChangeQuery:
    """What to compare. Paths are relative to the repository's root, '/'-separated.

    ``base_ref`` None: the merge base of ``head_ref`` with the default branch.
    No ``dockerfiles`` and no ``composes``: every one found at either ref.
    """

    repo: Path
    base_ref: str | None = None
    head_ref: str = "HEAD"
    dockerfiles: tuple[str, ...] = ()
    composes: tuple[str, ...] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)


def find_base_changes(query: ChangeQuery) -> BaseChanges:
    repo = gitrefs.toplevel(query.repo)
    head = GitSide(query.head_ref, gitrefs.commit_of(repo, query.head_ref, "--head-ref"))
    # Step 1: the base side — the ref given, or where the head left the default branch.
    if query.base_ref is not None:
        base = GitSide(query.base_ref, gitrefs.commit_of(repo, query.base_ref, "--base-ref"))
    else:
        branch = gitrefs.default_branch(repo)
        branch_commit = gitrefs.commit_of(repo, branch, "--base-ref")
        base = GitSide(
            f"merge-base({branch}, {query.head_ref})",
            gitrefs.merge_base(repo, branch_commit, head.commit),
        )
    old_files = set(gitrefs.files_at(repo, base.commit))
    new_files = set(gitrefs.files_at(repo, head.commit))
    # Step 2: the files — those given (each must exist at one ref at least), or found.
    if query.dockerfiles or query.composes:
        for flag, paths in (("--dockerfile", query.dockerfiles), ("--compose", query.composes)):
            for path in paths:
                if path not in old_files and path not in new_files:
                    raise ConfigurationError(
                        f"{path} is in neither {base.ref} ({base.commit[:12]}) nor "
                        f"{head.ref} ({head.commit[:12]})",
                        "give the path from the repository's root, as `git ls-files` shows it",
                        key=flag,
                    )
        dockerfiles, composes = query.dockerfiles, query.composes
    else:
        everything = sorted(old_files | new_files)
        kept = [p for p in everything if not gitrefs.is_vendored(p)]
        dockerfiles = tuple(p for p in kept if gitrefs.is_dockerfile(p))
        composes = tuple(p for p in kept if gitrefs.is_compose(p))
    # Step 3: each file's uses at both refs, compared.
    changes: list[BaseChange] = []
    unresolved: list[Unresolved] = []
    for path, is_compose in [(p, False) for p in dockerfiles] + [(p, True) for p in composes]:
        sides: list[tuple[BaseUse, ...]] = []
        for commit, present in ((base.commit, old_files), (head.commit, new_files)):
            if path not in present:
                sides.append(())
                continue
            text = gitrefs.read_at(repo, commit, path)
            if not is_compose:
                sides.append(parse_dockerfile(text, path, query.build_args))
                continue
            # compose reads the .env beside the file too (same ref).
            dotenv = (PurePosixPath(path).parent / ".env").as_posix()
            values = (
                parse_dotenv(gitrefs.read_at(repo, commit, dotenv)) if dotenv in present else {}
            )
            sides.append(parse_compose(text, path, values))
        found, open_ = compare_uses(sides[0], sides[1])
        changes.extend(found)
        unresolved.extend(open_)
    return BaseChanges(
        base=base,
        head=head,
        files=tuple(dockerfiles) + tuple(composes),
        changes=tuple(changes),
        unresolved=tuple(unresolved),
    )
