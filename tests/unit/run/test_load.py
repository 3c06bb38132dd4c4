"""How busy the host and engine were: sampled, summarised, and said in words."""

from __future__ import annotations

from pathlib import Path

from harness.run.load import LoadMonitor, docker_builds_running, load_warnings


def test_a_quiet_run_earns_no_warning() -> None:
    quiet = {"cpus": 2, "load1_max": 1.2, "load1_median": 0.8, "other_containers_max": 0}
    assert load_warnings(quiet) == []


def test_a_busy_host_and_engine_are_named() -> None:
    busy = {
        "cpus": 2,
        "load1_max": 5.5,
        "load1_median": 4.0,
        "other_containers_max": 3,
        "docker_builds_max": 1,
    }
    words = " ".join(load_warnings(busy))
    assert "load average reached 5.5 on 2 cores" in words
    assert "3 container(s) not of this run" in words
    assert "1 docker build(s)" in words


def test_the_monitor_samples_until_stopped() -> None:
    calls: list[int] = []

    def others() -> int:
        calls.append(1)
        return 2

    summary = LoadMonitor(others, cpus=2, interval=0.05).start()
    found = summary.stop()
    assert found.samples >= 2 and found.other_containers_max == 2
    assert found.load1_max >= 0 and found.cpus == 2
    assert found.to_dict()["samples"] == found.samples  # as run.load keeps it


def test_docker_builds_are_found_in_proc(tmp_path: Path) -> None:
    for pid, argv in {
        "10": b"docker\0build\0-t\0x\0.",
        "11": b"/usr/bin/docker\0ps",
        "x": b"",
    }.items():
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "cmdline").write_bytes(argv)
    assert docker_builds_running(tmp_path) == 1


def test_a_failed_query_of_other_containers_is_unknown_not_zero() -> None:
    def others() -> int:
        raise ConnectionError("engine gone")

    summary = LoadMonitor(others, cpus=2, interval=0.05).start().stop()
    assert summary.other_containers_max is None
    assert summary.other_containers_unknown == summary.samples >= 2
    words = " ".join(load_warnings(summary))
    assert "engine load unknown" in words and "not of this run" not in words


def test_run_load_as_results_json_keeps_it_reads_back() -> None:
    from harness.run.load import LoadSummary

    written = LoadSummary(cpus=2, samples=3, load1_max=1.5, other_containers_max=None)
    back = LoadSummary.from_dict({**written.to_dict(), "a_later_key": 1})
    assert back == written
    assert LoadSummary.from_dict({}) == LoadSummary()
