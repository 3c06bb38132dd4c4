"""The run directory: every file written into it, its owner, and reading results.json.

- ``write_atomic``: the one way harness writes a file (temp file + rename in the same
  folder), so a reader never sees half a file and a full disk never truncates one; ENOSPC
  becomes ``DiskFullError`` (one line: the folder and the space needed), never a traceback.
  Its files get the mode any other tool's output gets (0666 less the umask), not mkstemp's
  0600, so a web server or another CI user can read report.html.
- ``RunLock``: one run directory, one writer (an flock on ``.harness.lock``, which holds
  the owner's pid and host).
- ``read_results``: results.json read once into the typed ``model.results.Results``
  (validated on load, nested probe outputs included), so documents can trust every field;
  ``load_results`` is the same as JSON-ready dicts, for scripts and tests that edit it.
- results.json itself is written by ``store.resultsfile.write_results`` alone (the
  streamed layout: one cell per line), from dicts or from the typed ``Results``.
- ``write_json``: strict JSON only (no NaN/Infinity, no lone surrogate).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.model.errors import DiskFullError, ResultsError, RunDirectoryBusyError
from harness.model.results import RERUN, CellRecord, Results, dumps
from harness.store.files import LOCK_FILE, PREPARE_JSON

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_PAGE = 4096  # what a file needs at the least on any filesystem harness writes to


# -- writing ---------------------------------------------------------------------------


def is_disk_full(err: BaseException) -> bool:
    """ENOSPC/EDQUOT, also from libraries that keep only the message."""
    if isinstance(err, OSError) and err.errno in _NO_SPACE:
        return True
    return isinstance(err, OSError) and "No space left on device" in str(err)


def disk_full(folder: Path, needed_bytes: int) -> DiskFullError:
    try:
        free: int | None = shutil.disk_usage(folder).free
    except OSError:
        free = None
    return DiskFullError(str(folder), max(needed_bytes, _PAGE), free)


def _umask_at_import() -> int:
    """The umask by setting and restoring it: process-wide, so done once, at import."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK_AT_IMPORT = _umask_at_import()


def current_umask() -> int:
    """The process's umask, read from /proc (Linux 4.7+) without changing it (setting and
    restoring it races with other threads creating files); else the one read at import."""
    try:
        with Path("/proc/self/status").open(encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _UMASK_AT_IMPORT


def make_dirs(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if is_disk_full(err):
            raise disk_full(folder.parent, _PAGE) from None
        raise
    return folder


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write ``content`` to ``path`` all or nothing: a temp file in the same folder, synced,
    then renamed over ``path``. Text is written as UTF-8."""
    data = content.encode("utf-8") if isinstance(content, str) else content

    def write(temporary: Path) -> None:
        with temporary.open("wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())

    return write_atomic_with(path, write, len(data))


def write_atomic_with(path: Path, writer: Callable[[Path], None], size_hint: int = 0) -> Path:
    """Like ``write_atomic`` for a library that writes a file itself (JUnit's ElementTree)."""
    folder = make_dirs(path.parent)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        if is_disk_full(err):
            raise disk_full(folder, size_hint) from None
        raise
    os.close(fd)
    temporary = Path(name)
    try:
        writer(temporary)
        temporary.chmod(0o666 & ~current_umask())  # mkstemp made it 0600
        temporary.replace(path)
    except OSError as err:
        if is_disk_full(err):
            written = temporary.stat().st_size if temporary.exists() else 0
            raise disk_full(folder, max(size_hint, written + _PAGE)) from None
        raise
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    return path


def write_json(path: Path, data: Any) -> Path:
    """Strict JSON (model/results.py ``dumps``): never NaN or Infinity (null, with the
    value named beside it), never a lone surrogate (U+FFFD)."""
    return write_atomic(path, dumps(data))


# -- ownership -------------------------------------------------------------------------


class RunLock:
    """An exclusive flock on ``<run dir>/.harness.lock`` for the life of the run.

    The kernel drops it when the owner exits, however it exits, so a killed run never
    leaves a stale lock; the file's text (pid, host, run id) names the owner to a run
    that finds it taken.
    """

    def __init__(self, run_dir: Path, run_id: str) -> None:
        self.run_dir = run_dir
        self.run_id = run_id
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self.run_dir / LOCK_FILE

    def acquire(self) -> RunLock:
        make_dirs(self.run_dir)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 1000).decode("utf-8", errors="replace").split()
            os.close(fd)
            pid, host, run = [*owner, "?", "?", "?"][:3]
            raise RunDirectoryBusyError(
                f"{self.run_dir}: in use by run {run} (pid {pid} on host {host})",
                "wait for that run to end, or pass another --out",
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()} {self.run_id}\n".encode())
        except OSError as err:
            os.close(fd)
            if is_disk_full(err):
                raise disk_full(self.run_dir, _PAGE) from None
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (harmless, tiny)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def claim_run_dir(run_dir: Path, run_id: str, resume: bool) -> RunLock:
    """Lock ``run_dir`` for this run; refuse one that holds another run unless resuming it."""
    prepared = run_dir / PREPARE_JSON
    if resume or not prepared.exists():
        return RunLock(run_dir, run_id).acquire()
    if (run_dir / LOCK_FILE).exists():  # a run still at work there is named as such
        RunLock(run_dir, run_id).acquire().release()
    # Refused without taking the lock: a refused run leaves no file behind.
    try:
        other = json.loads(prepared.read_text(encoding="utf-8"))["run"]["id"]
    except (OSError, ValueError, KeyError, TypeError):
        other = "?"
    raise RunDirectoryBusyError(
        f"{run_dir}: already holds run {other}",
        f"finish it with `harness run --resume {run_dir}`, or pass another --out",
    )


def read_results(path: Path) -> Results:
    """The typed results of one run (validated once, nested probe outputs included), or
    ResultsError (exit 2) naming the file and the JSON path of the first bad value."""
    return Results.from_json(_read_text(path, "results file"), str(path))


def load_results(path: Path) -> dict[str, object]:
    """The same file, validated by the same types, as JSON-ready dicts
    (``Results.to_dict()``): for scripts and tests that edit a run's JSON; every reader in
    harness takes the typed ``read_results``."""
    return read_results(path).to_dict()


def read_cell(path: Path) -> CellRecord:
    """One cell file (``cells/<id>.r<k>.json``), or ResultsError naming it and the path."""
    return CellRecord.from_json(_read_text(path, "cell file"), str(path))


def write_cell(path: Path, record: CellRecord) -> Path:
    return write_atomic(path, record.to_json())


def _read_text(path: Path, what: str) -> str:
    if not path.exists():
        raise ResultsError(
            f"{path}: {what} not found",
            f"pass the directory of a finished run (it holds results.json), or {RERUN}",
        )
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: cannot read the {what} ({err})", RERUN) from err
