"""Fatal errors: each says where, what failed and what to do, and carries the exit code.

Caught once, in ``cli.entry.main``, and shown in one format (the error contract)::

    harness: error: FILE:LINE: KEY: what
    fix: what to do

``FILE``, ``LINE`` and ``KEY`` appear when known (a bad command-line flag has only its
``KEY``, e.g. ``--jobs``). One error may carry several problems (``harness validate`` lists
every problem of a matrix at once): each is shown in that format, one after the other.
Anything that is a property of one cell (a failed install, a missing base) is *not* an
error here: it is a cell status.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

PROGRAM = "harness"


class FatalError(Exception):
    """Stops the whole run. ``render()`` is what the user sees.

    ``what`` is the located head line (``FILE:LINE: KEY: message``, the parts known),
    ``message`` the message alone, ``fix`` the hint.
    """

    exit_code = 1

    def __init__(
        self,
        what: str,
        fix: str | None = None,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = what
        self.fix = fix
        self.file = None if file is None else str(file)
        self.line = line
        self.key = key
        self.what = located(what, self.file, line, key)
        super().__init__(self.what)

    @property
    def problems(self) -> tuple[FatalError, ...]:
        """Each problem this error reports; one unless built by ``FatalError.of``."""
        return (self,)

    def __str__(self) -> str:
        return "\n".join(
            p.what if p.fix is None else f"{p.what}\nfix: {p.fix}" for p in self.problems
        )

    def render(self) -> str:
        """The error as shown on stderr: every problem in the one format."""
        return "\n".join(
            f"{PROGRAM}: error: {p.what}" + ("" if p.fix is None else f"\nfix: {p.fix}")
            for p in self.problems
        )


def located(message: str, file: str | None, line: int | None, key: str | None) -> str:
    """``FILE:LINE: KEY: message`` with the parts that are known."""
    where = "" if file is None else file if line is None else f"{file}:{line}"
    return ": ".join(part for part in (where, key, message) if part)


class ConfigurationError(FatalError):
    """Bad matrix file, bad arguments, unreadable results file: exit 2."""

    exit_code = 2

    @classmethod
    def of(cls, problems: Sequence[ConfigurationError]) -> ConfigurationError:
        """One error carrying every problem found (at least one), in the order given."""
        if len(problems) == 1:
            return problems[0]
        return _Problems(problems)


class _Problems(ConfigurationError):
    """Several configuration problems reported at once (``harness validate``)."""

    def __init__(self, problems: Sequence[ConfigurationError]) -> None:
        self._problems = tuple(problems)
        first = self._problems[0]
        super().__init__(first.message, first.fix, file=first.file, line=first.line, key=first.key)
        # ``what`` names every problem, so a caller that checks one finds it.
        self.what = "\n".join(p.what for p in self._problems)
        self.fix = "\n".join(dict.fromkeys(p.fix for p in self._problems if p.fix)) or None

    @property
    def problems(self) -> tuple[FatalError, ...]:
        return self._problems


class EngineUnavailableError(FatalError):
    """No usable Docker engine: exit 3."""

    exit_code = 3


class ResultsError(ConfigurationError):
    """A results.json that cannot be read (truncated, unknown schema version)."""


class RunAbortedError(FatalError):
    """A run a command depends on stopped (interrupted, engine gone): its own exit code."""

    def __init__(self, exit_code: int, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.exit_code = exit_code


class DiskFullError(FatalError):
    """The filesystem of an output ran out of space (ENOSPC): exit 1, finished cells kept.

    ``str(err)`` is one line naming the folder and the space needed; ``--resume`` completes
    the run once space is freed.
    """

    exit_code = 1

    def __init__(self, folder: str, needed_bytes: int, free_bytes: int | None) -> None:
        self.folder = folder
        self.needed_bytes = needed_bytes
        free = "" if free_bytes is None else f", {free_bytes} bytes free"
        super().__init__(
            f"harness: no space left in {folder}: writing needs at least {needed_bytes} bytes"
            f"{free}; finished cells are kept: free space, then `harness run --resume <run dir>`"
        )

    def __str__(self) -> str:
        return self.what


class RunDirectoryBusyError(ConfigurationError):
    """Another run owns (or already wrote) the run directory: exit 2."""
