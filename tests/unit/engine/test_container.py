"""A step's output is kept bounded (issue 13, item 4): head and tail, the rest counted."""

from __future__ import annotations

import time

from harness.engine.container import BoundedOutput, CellContainer, ContainerSpec


def test_short_output_is_kept_whole() -> None:
    out = BoundedOutput(head=10, tail=10)
    out.add(b"hello ")
    out.add("wörld".encode())
    assert out.text() == "hello wörld" and out.dropped == 0


def test_long_output_keeps_head_and_tail_and_counts_the_rest() -> None:
    out = BoundedOutput(head=8, tail=32)
    for index in range(1000):
        out.add(f"line {index:04d}\n".encode())
    out.add(b'{"status": "passed"}\n')
    text = out.text()
    assert text.startswith("line 000") and text.endswith('{"status": "passed"}\n')
    assert out.dropped == out.total - 8 - 32
    assert f"{out.dropped} bytes of output dropped here" in text


def test_200_mb_costs_what_reading_it_costs() -> None:
    chunk = b"x" * 65536
    out = BoundedOutput()
    started = time.monotonic()
    for _ in range(200 * 16):  # 200 MiB in the engine's usual chunk size
        out.add(chunk)
    out.add(b'\n{"status": "passed", "seconds": 0.1}\n')
    seconds = time.monotonic() - started
    assert seconds < 2.0, seconds  # collecting it whole took minutes (quadratic)
    text = out.text()
    assert text.splitlines()[-1] == '{"status": "passed", "seconds": 0.1}'
    assert len(text) < 2 * 1024 * 1024


def test_a_runtime_container_keeps_alive_with_its_own_python_on_a_read_only_root() -> None:

    plain = CellContainer(None, ContainerSpec(image="i", name="n", labels={}))  # type: ignore[arg-type]
    assert plain._run_kwargs()["entrypoint"] == ["sleep", "infinity"]
    assert "read_only" not in plain._run_kwargs()
    spec = ContainerSpec(
        image="i", name="n", labels={}, entrypoint=("/usr/bin/python3.11", "-c", "pass"),
        read_only=True, tmpfs={"/tmp": "rw"},
    )  # fmt: skip
    kwargs = CellContainer(None, spec)._run_kwargs()  # type: ignore[arg-type]
    assert kwargs["entrypoint"] == ["/usr/bin/python3.11", "-c", "pass"]
    assert (kwargs["read_only"], kwargs["tmpfs"]) == (True, {"/tmp": "rw"})
