"""A pytest-xdist scheduler that keeps one longest-first queue for a matrix run.

xdist's own LoadScheduling sends each worker a first chunk of consecutive items (two
or more, growing with the matrix) and refills in chunks, so which cell a worker runs
next is settled long before it is free. A worker must hold one item beyond the one it
runs (pytest needs the next item to finish the current one), but no more: here each
worker holds exactly two, the first pairs are dealt in snake order (worker 0 gets the
1st and the 2n-th longest, the last worker the n-th and the n+1-th), and every item
after that goes to the worker that frees first. The collection arrives sorted longest
first (``pytest_collection_modifyitems``), so that is longest-processing-time-first with
a look-ahead of one cell.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScheduling

HELD_PER_WORKER = 2  # the running item and the one pytest needs to see next


# xdist ships no type information, so LoadScheduling is Any to mypy.
class LongestFirstScheduling(LoadScheduling):  # type: ignore[misc]
    collection: list[str] | None  # set by LoadScheduling.__init__; restated for mypy

    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is not None:  # a node joined later: top everyone up
            for node in self.nodes:
                self.check_schedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        collection = next(iter(self.node2collection.values()))
        self.collection = collection
        self.pending[:] = range(len(collection))
        for node in deal_order(list(self.nodes), HELD_PER_WORKER):
            if self.pending:
                self._send_tests(node, 1)
        if not self.pending:
            for node in self.nodes:
                node.shutdown()

    # xdist calls this with duration= by keyword: the name stays.
    def check_schedule(self, node: Any, duration: float = 0) -> None:  # noqa: ARG002
        if node.shutting_down:
            return
        if not self.pending:
            node.shutdown()
            return
        missing = HELD_PER_WORKER - len(self.node2pending[node])
        if missing > 0:
            self._send_tests(node, min(missing, len(self.pending)))


def deal_order(nodes: list[Any], rounds: int) -> list[Any]:
    """Snake order over the workers: 0, 1, …, n-1, then n-1, …, 0, and so on."""
    order: list[Any] = []
    for round_index in range(rounds):
        order += nodes if round_index % 2 == 0 else nodes[::-1]
    return order
