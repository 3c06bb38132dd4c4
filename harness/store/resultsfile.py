"""results.json written and read one cell at a time, so a run of 10,000 cells never has
to be in memory at once.

The layout is plain JSON that any parser reads as before; it only fixes where the cells
are: everything but the cells first (indented, for people), then ``"cells": [`` on a line
of its own at column 0 (where an indented writer never puts a key), then one cell per
line (compact JSON never holds a raw newline), then ``]}``::

    {
     "schema_version": 1,
     "run": {...},
     ...,
    "cells": [
    {"id": "py311×spacy", ...},
    {"id": "py311×tiny", ...}
    ]}

``iter_cells`` and ``read_header`` read that layout line by line, into the typed
``CellRecord`` and ``Results``; a results.json written otherwise (an older harness, a
hand-edited file) is parsed whole instead, so every file still reads.

``write_results`` is the one writer of results.json: a run's merge, ``harness merge``,
publishing (the SBOM list) and tools writing a typed ``Results`` all go through it.
``read_results_shared`` is the one reader of a whole run for documents: the typed
``Results``, each cell validated once, read one line at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from harness.model.errors import ResultsError
from harness.model.records import RERUN
from harness.model.results import CellRecord, Results, sanitize
from harness.store.rundir import read_results, write_atomic_with

CELLS_OPEN = '"cells": ['
CELLS_CLOSE = "]}"


def _strict(data: Any, **layout: Any) -> str:
    """Strict JSON (never NaN or Infinity, no lone surrogate): the C encoder first, the
    model's ``sanitize`` (which nulls and names what strict JSON cannot hold) only when
    it refuses or the text needs repair."""
    try:
        text = json.dumps(data, default=str, allow_nan=False, **layout)
    except (ValueError, RecursionError):
        return json.dumps(sanitize(data), default=str, allow_nan=False, **layout)
    if "\\ud" in text:  # maybe a lone surrogate: UTF-8 cannot hold one
        return json.dumps(sanitize(data), default=str, allow_nan=False, **layout)
    return text


class CellLine(str):
    """One cell already serialised as compact strict JSON on one line (a merge copies a
    shard's cell line without parsing it again)."""


# A cell to write: its typed record, its line already serialised, or its JSON-ready
# mapping (run/results.py's redacted record, a shard's line re-stamped), written as is.
CellItem = CellRecord | CellLine | Mapping[str, object]


def cell_line(cell: CellItem) -> str:
    if isinstance(cell, CellLine):
        return cell
    if isinstance(cell, CellRecord):
        try:  # pydantic's writer (C speed), unless the record needs repair
            text = cell.model_dump_json(exclude_unset=True, by_alias=True)
        except Exception:  # a lone surrogate, too deep a value
            text = None
        if text is not None and '"NaN"' not in text and "Infinity" not in text:
            return text
        return _strict(cell.to_dict(), separators=(",", ":"))
    return _strict(cell, separators=(",", ":"))


def write_results(
    path: Path,
    header: Results | Mapping[str, object],
    cells: Iterable[CellItem] | None = None,
) -> int:
    """Write results.json atomically (a temp file renamed at the end: an interrupted
    write leaves the old file or none) from ``header`` (every key but ``cells``: the typed
    ``Results``, or the JSON-ready mapping a run's merge builds) and the cells as they come
    (typed records, lines already serialised, or mappings); return how many cells were
    written. A typed ``Results`` alone is written whole: its own cells."""
    if isinstance(header, Results):
        if cells is None:
            cells = header.cells
        header = header.model_dump(
            mode="json", exclude_unset=True, by_alias=True, exclude={"cells"}
        )
    elif cells is None:
        raise TypeError("write_results: a header given as a mapping needs its cells")
    count = 0

    def write(temporary: Path) -> None:
        nonlocal count
        with temporary.open("w", encoding="utf-8") as stream:
            count = _write_stream(stream, header, (cell_line(c) for c in cells))

    write_atomic_with(path, write)
    return count


def _write_stream(stream: IO[str], header: Mapping[str, object], lines: Iterable[str]) -> int:
    rest = {k: v for k, v in header.items() if k != "cells"}
    head = _strict(rest, indent=1)
    stream.write(head[:-2] + ",\n" if rest else "{\n")
    stream.write(f"{CELLS_OPEN}\n")
    count = 0
    for line in lines:
        stream.write(("," if count else "") + line.rstrip("\n").lstrip(",") + "\n")
        count += 1
    stream.write(CELLS_CLOSE + "\n")
    return count


def _split(path: Path) -> tuple[list[str], IO[str]] | None:
    """(header lines, the file positioned at the first cell line) of a file in the
    streamed layout, else None. The caller closes the file."""
    stream = path.open(encoding="utf-8")
    head: list[str] = []
    for line in stream:
        if line.rstrip("\r\n") == CELLS_OPEN:  # at column 0: never an indented key
            return head, stream
        head.append(line)
    stream.close()
    return None


def _cell_lines(path: Path, stream: IO[str]) -> Iterator[str]:
    with stream:
        for raw in stream:
            text = raw.strip()
            if text == CELLS_CLOSE:
                return
            if text:
                yield text.lstrip(",")
    raise ResultsError(
        f"{path}: the cells list ends before its closing bracket; the file is probably "
        "truncated (interrupted run or full disk)",
        RERUN,
    )


def read_header(path: Path) -> Results:
    """The typed results of a run without its cells (``cells`` is []), validated like
    ``rundir.read_results``; its cells are not read (``iter_cells`` reads them)."""
    return Results.from_json_data(_header_json(path), str(path))


def _header_json(path: Path) -> dict[str, object]:
    """results.json's header as its JSON object (``cells`` is []), not validated yet:
    what ``update_header`` edits and writes back key for key."""
    split = _split_or_none(path)
    if split is None:
        return {**read_results(path).to_dict(), "cells": []}
    head, stream = split
    stream.close()
    text = "".join(head).rstrip().rstrip(",") + "}"
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ResultsError(f"{path}: not valid JSON before its cells ({err})", RERUN) from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object at the top level", RERUN)
    data["cells"] = []
    return data


def iter_cells(path: Path) -> Iterator[CellRecord]:
    """Each cell of results.json in file order, each validated as read_results would."""
    split = _split_or_none(path)
    if split is None:
        yield from read_results(path).cells
        return
    for index, line in enumerate(_cell_lines(path, split[1])):
        yield _typed_cell(path, line, index)


def _split_or_none(path: Path) -> tuple[list[str], IO[str]] | None:
    if not path.is_file():
        read_results(path)  # raises the usual "results file not found"
    try:
        return _split(path)
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: cannot read the results file ({err})", RERUN) from err


def update_header(path: Path, change: Callable[[dict[str, object]], None]) -> dict[str, object]:
    """Rewrite results.json with ``change`` applied to its header, as JSON (keys this
    harness does not know are written back as they were); the cells are copied line by
    line, never parsed. Returns the new header."""
    header = _header_json(path)
    Results.from_json_data(header, str(path))  # refused before any change is written
    change(header)
    split = _split_or_none(path)

    def write(temporary: Path) -> None:
        with temporary.open("w", encoding="utf-8") as stream:
            if split is None:
                lines: Iterable[str] = (cell_line(c) for c in read_results(path).cells)
            else:
                lines = _cell_lines(path, split[1])
            _write_stream(stream, header, lines)

    write_atomic_with(path, write)
    return header


def _parse_cell(path: Path, text: str, index: int) -> dict[str, object]:
    """A cell line as its JSON object, not validated yet (``_typed_cell`` does)."""
    try:
        cell = json.loads(text.lstrip(","))
    except (ValueError, RecursionError) as err:
        raise ResultsError(
            f"{path}: cell {index} is not valid JSON ({err}); the file is probably "
            "truncated or edited",
            RERUN,
        ) from None
    if not isinstance(cell, dict):
        raise ResultsError(f"{path}: cell {index} is not a JSON object", RERUN)
    return cell


def _split_or_none_closed(path: Path) -> bool | None:
    split = _split_or_none(path)
    if split is None:
        return None
    split[1].close()
    return True


def is_streamed(path: Path) -> bool:
    """Is results.json in the streamed layout (one cell per line), as harness writes it?"""
    return _split_or_none_closed(path) is not None


def read_results_shared(path: Path) -> Results:
    """The typed results of a run (``rundir.read_results``'s equal), read one cell line at
    a time, each cell validated once by pydantic's own JSON parser; the bulk rows of the
    contents probe (OS packages and installed distributions, most of a cell's bytes and
    the same in every cell of a base) stored once, so 10,000 cells fit in memory.

    The shared rows are plain dicts inside frozen records: readers must not mutate them
    (none does). A results.json not in the streamed layout is read whole."""
    split = _split_or_none(path)
    if split is None:  # an older harness, a hand-edited file
        return read_results(path)
    split[1].close()
    head = read_header(path)
    rows: dict[Any, Any] = {}
    cells = [
        share_rows(_typed_cell(path, line, index), rows)
        for index, line in enumerate(_cell_lines(path, _split_or_none(path)[1]))  # type: ignore[index]
    ]
    return head.model_copy(update={"cells": cells})


def _typed_cell(path: Path, line: str, index: int) -> CellRecord:
    source = f"{path} (cell {index})"
    try:
        return CellRecord.model_validate_json(line)
    except ValueError:  # said well (JSON path, repair of NaN) by the careful path
        pass
    cell = _parse_cell(path, line, index)
    return CellRecord.from_dict(sanitize(cell, source), source)


def share_rows(cell: CellRecord, rows: dict[Any, Any]) -> CellRecord:
    """``cell`` with its contents probe's rows replaced by the equal ones in ``rows``
    (added there when new): one object for the same OS package in every cell."""
    contents = cell.probes.contents
    if contents is None:
        return cell
    for listed in (contents.os_packages, contents.distributions):
        for i, row in enumerate(listed or []):
            # 1 and True are equal: the types are part of the key (a row's extra keys are
            # not typed); one holding a list (wheel tags) is keyed by its JSON
            try:
                key: Any = (*row.items(), *map(type, row.values()))
                hash(key)
            except TypeError:
                key = json.dumps(row, sort_keys=True, default=str)
            listed[i] = rows.setdefault(key, row)  # type: ignore[index]
    return cell


def iter_cell_lines_at(path: Path) -> Iterator[tuple[int, CellRecord, str]]:
    """(byte offset of its line, the cell validated, its line) for each cell of a
    results.json in the streamed layout (``read_line_at`` reads the line back)."""
    with path.open("rb") as stream:
        for raw in stream:
            if raw.rstrip(b"\r\n") == CELLS_OPEN.encode():
                break
        else:
            raise ResultsError(f"{path}: not in the streamed layout", RERUN)
        offset, index = stream.tell(), 0
        for raw in stream:
            start, offset = offset, offset + len(raw)
            text = raw.strip()
            if text == CELLS_CLOSE.encode():
                return
            if not text:
                continue
            line = text.decode("utf-8", errors="replace").lstrip(",")
            yield start, _typed_cell(path, line, index), line
            index += 1
    raise ResultsError(
        f"{path}: the cells list ends before its closing bracket; the file is probably "
        "truncated (interrupted run or full disk)",
        RERUN,
    )


def read_line_at(path: Path, offset: int) -> str:
    """The cell line that starts at ``offset`` (from ``iter_cell_lines_at``), as written."""
    with path.open("rb") as stream:
        stream.seek(offset)
        return stream.readline().strip().decode("utf-8", errors="replace").lstrip(",")
