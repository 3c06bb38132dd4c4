"""Files of a git repository at a ref, read with the git command line (no GitPython).

Low-level git failures become ConfigurationError here (a ref that is not there, a folder
that is not a repository, a shallow clone without the merge base), each with a fix.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

from harness.model.errors import ConfigurationError

GIT_TIMEOUT_SECONDS = 60

# Folders whose Dockerfiles belong to someone else's project.
VENDORED_FOLDERS = frozenset(
    {
        ".git",
        "node_modules",
        "vendor",
        "vendored",
        "third_party",
        "third-party",
        "site-packages",
        ".venv",
        "venv",
        ".tox",
        ".nox",
    }
)
# The files `docker compose` reads by default, the override files included.
COMPOSE_NAMES = frozenset(
    f"{stem}{override}.{ext}"
    for stem in ("compose", "docker-compose")
    for override in ("", ".override")
    for ext in ("yaml", "yml")
)


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``git -C repo ARGS``; the completed process, whatever its exit status."""
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as err:
        raise ConfigurationError(
            "git is not installed", "install git (apt-get install git)", key="git"
        ) from err


def toplevel(path: Path) -> Path:
    """The root of the git work tree holding ``path``."""
    done = git(path, "rev-parse", "--show-toplevel")
    if "dubious ownership" in done.stderr:
        raise ConfigurationError(
            f"git refuses to read {path}: the repository belongs to another user",
            f"git config --global --add safe.directory {path.resolve()}",
            key="--repo",
        )
    if done.returncode != 0:
        raise ConfigurationError(
            f"{path} is not in a git repository",
            "run `harness check` inside the repository, or pass --repo DIR",
            key="--repo",
        )
    return Path(done.stdout.strip())


def commit_of(repo: Path, ref: str, key: str) -> str:
    """The commit ``ref`` names; ``key`` is the flag the ref came from."""
    done = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode != 0:
        raise ConfigurationError(
            f"{ref!r} is not a commit in {repo}",
            "check the spelling (`git log --oneline`), or fetch it (`git fetch origin "
            f"{ref}`; in GitHub Actions: actions/checkout with fetch-depth: 0)",
            key=key,
        )
    return done.stdout.strip()


def default_branch(repo: Path) -> str:
    """The default branch: origin/HEAD's target, else main, else master (local, then
    origin's)."""
    done = git(repo, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip().removeprefix("refs/remotes/")
    for candidate in ("main", "master", "origin/main", "origin/master"):
        if git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}").returncode == 0:
            return candidate
    raise ConfigurationError(
        f"no default branch in {repo} (no origin/HEAD, main or master)",
        "pass --base-ref REF (the branch the change is compared with)",
        key="--base-ref",
    )


def merge_base(repo: Path, left: str, right: str) -> str:
    """The best common ancestor of two commits."""
    done = git(repo, "merge-base", left, right)
    if done.returncode != 0:
        raise ConfigurationError(
            f"{left} and {right} have no common ancestor in {repo}",
            "fetch the history (`git fetch --unshallow`; in GitHub Actions: actions/checkout "
            "with fetch-depth: 0), or pass --base-ref REF",
            key="--base-ref",
        )
    return done.stdout.strip()


def files_at(repo: Path, commit: str) -> tuple[str, ...]:
    """Every file path (relative, '/'-separated) in ``commit``'s tree."""
    done = git(repo, "ls-tree", "-r", "-z", "--name-only", commit)
    if done.returncode != 0:
        raise ConfigurationError(f"cannot list {commit}: {done.stderr.strip()}", key="git")
    return tuple(p for p in done.stdout.split("\0") if p)


def read_at(repo: Path, commit: str, path: str) -> str:
    """The text of ``path`` in ``commit`` (which must hold it: see ``files_at``)."""
    done = git(repo, "cat-file", "blob", f"{commit}:{path}")
    if done.returncode != 0:
        raise ConfigurationError(f"cannot read {path} at {commit}: {done.stderr.strip()}")
    return done.stdout


def is_dockerfile(path: str) -> bool:
    """Dockerfile, *.Dockerfile, Dockerfile.* (not *.dockerignore), Containerfile[.*]."""
    name = PurePosixPath(path).name
    if name.endswith(".dockerignore"):
        return False
    return any(
        name == stem or name.startswith(f"{stem}.") or name.endswith(f".{stem}")
        for stem in ("Dockerfile", "Containerfile")
    )


def is_compose(path: str) -> bool:
    return PurePosixPath(path).name in COMPOSE_NAMES


def is_vendored(path: str) -> bool:
    return any(part in VENDORED_FOLDERS for part in PurePosixPath(path).parts[:-1])
