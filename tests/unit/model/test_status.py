"""The one definition of statuses: severity, sets, emoji, meanings."""

from __future__ import annotations

from harness.model import status
from harness.model.status import FAILING, GOOD, NOT_RUN, Status


def test_every_status_has_an_emoji_and_a_meaning() -> None:
    for member in Status:
        assert member.emoji and member.emoji != status.UNKNOWN_EMOJI
        assert member.meaning
    assert status.label("oom") == "🧠 oom"
    assert status.label("martian").startswith(status.UNKNOWN_EMOJI)


def test_sets_partition_the_statuses_that_say_something() -> None:
    assert Status.OOM in FAILING
    assert not (FAILING & GOOD) and not (FAILING & NOT_RUN) and not (GOOD & NOT_RUN)
    assert set(status.WORDS) == {s.value for s in Status}


def test_worst_of_a_mixed_group() -> None:
    assert status.worst(["passed", "failed", "passed"]) == "failed"
    assert status.worst(["expected-failure", "unsupported"]) == "expected-failure"
    assert status.worst(["timeout", "oom"]) == "oom"
    assert status.worst(["passed", "from-the-future"]) == "from-the-future"
    assert status.worst([]) == "unknown"


def test_failed_means_the_team_suite_too() -> None:
    # The service example fails only on its own tests: the legend must say so.
    assert "test suite" in Status.FAILED.meaning


def test_worst_follows_the_severity_order_for_every_pair_and_reads_members() -> None:
    for i, worse in enumerate(status.SEVERITY):
        for better in status.SEVERITY[i:]:
            assert status.worst([better, worse.value, None]) == worse.value
    assert status.worst(["zz-new", "aa-new", "error"]) == "aa-new"  # unknown words first
