"""analysis.sizes: bytes per install step and the size difference between two bases."""

from __future__ import annotations

from typing import Any

from harness.analysis.sizes import (
    AFTER_INSTALL,
    size_difference,
    sized_cell,
    step_sizes,
)
from harness.model.results import CellRecord, Probes


def cell(dists: dict[str, int], added: int, status: str = "passed", repeat: int = 0) -> CellRecord:
    return CellRecord.from_dict(_cell(dists, added, status, repeat))


def _cell(dists: dict[str, int], added: int, status: str, repeat: int) -> dict[str, Any]:
    return {
        "id": "b×spacy",
        "base": "b",
        "depset": "spacy",
        "status": status,
        "repeat": repeat,
        "size_added_bytes": added,
        "probes": {
            "contents": {
                "os_packages": [],
                "distributions": [
                    {"name": n, "version": "1", "size_bytes": b} for n, b in dists.items()
                ],
            }
        },
    }


SLIM = cell(
    {"spacy": 30_000_000, "blis": 9_000_000, "numpy": 40_000_000, "thinc": 5_000_000}, 90_000_000
)


MUSL = cell(
    {"spacy": 30_000_000, "blis": 3_000_000, "numpy": 28_000_000, "thinc": 5_000_000}, 72_000_000
)


def test_a_difference_names_the_distributions_that_account_for_it() -> None:
    difference = size_difference(SLIM, MUSL)
    assert difference is not None and difference.added_change == -18_000_000
    assert [(c.name, c.change) for c in difference.changes] == [
        ("numpy", -12_000_000),
        ("blis", -6_000_000),
    ]
    assert difference.sentence("spacy", "slim", "musl") == (
        "spacy on musl: 18.0 MB less than on slim, of which numpy 12.0 MB, blis 6.0 MB"
    )
    reverse = size_difference(MUSL, SLIM)
    assert reverse is not None
    assert reverse.sentence("spacy", "musl", "slim").startswith("spacy on slim: 18.0 MB more")


def test_only_changes_in_the_direction_of_the_total_are_named() -> None:
    a = cell({"x": 10_000_000, "y": 1_000_000}, 11_000_000)
    b = cell({"x": 2_000_000, "y": 2_000_000, "z": 500_000}, 4_500_000)
    difference = size_difference(a, b)
    assert difference is not None
    assert difference.sentence("d", "A", "B") == "d on B: 6.5 MB less than on A, of which x 8.0 MB"
    grows = size_difference(b, a)
    assert grows is not None
    assert grows.sentence("d", "B", "A") == (
        "d on A: 6.5 MB more than on B, of which x 8.0 MB"
    )  # y shrank and z is gone on A: they pull the other way, so they are not "of which"


def test_a_distribution_on_one_side_only_is_said_so() -> None:
    a = cell({"x": 1_000_000}, 1_000_000)
    b = cell({"x": 1_000_000, "triton": 286_000_000}, 287_000_000)
    difference = size_difference(a, b)
    assert difference is not None
    assert difference.sentence("torch", "slim", "big") == (
        "torch on big: 286 MB more than on slim, of which triton 286 MB (only on big)"
    )


def test_same_bytes_and_missing_sides() -> None:
    same = size_difference(SLIM, SLIM)
    assert same is not None and same.sentence("spacy", "a", "b") == (
        "spacy on b: the same bytes added as on a"
    )
    no_contents = SLIM.model_copy(update={"probes": Probes()})
    assert size_difference(SLIM, no_contents) is None
    assert size_difference(None, SLIM) is None


def test_the_sized_cell_is_the_first_passed_repeat_with_contents() -> None:
    failed = cell({"x": 1}, 1, status="failed", repeat=0)
    second = cell({"x": 2}, 2, repeat=2)
    first = cell({"x": 3}, 3, repeat=1)
    assert sized_cell([failed, second, first]) is first
    assert sized_cell([failed]) is None


def test_step_sizes_add_up_to_the_size_added() -> None:
    record = {
        "id": "b×d",
        "base": "b",
        "depset": "d",
        "status": "passed",
        "size_added_bytes": 600,
        "size_start_bytes": 0,
        "size_probes_bytes": 100,
        "size_measure_seconds": 0.25,
        "steps": [
            {"name": "system-packages", "kind": "install", "bytes_added": 200},
            {"name": "venv", "kind": "install", "bytes_added": 100},
            {"name": "pip-install", "kind": "install", "bytes_added": 200},
            {"name": "probe:env", "kind": "probe"},
        ],
    }
    sizes = step_sizes(record)
    assert sizes is not None
    assert [(s.name, s.bytes_added) for s in sizes.steps] == [
        ("system-packages", 200),
        ("venv", 100),
        ("pip-install", 200),
    ]
    assert sizes.accounted == sizes.total == 600 and sizes.measure_seconds == 0.25
    assert step_sizes({**record, "size_probes_bytes": None}) is None  # an older record
    assert AFTER_INSTALL.startswith("after the install steps")
