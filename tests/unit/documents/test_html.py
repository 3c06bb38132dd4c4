"""One status stylesheet: a class per Status word, included by every page, and no page
keeping status colours of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.documents import html
from harness.model.status import Status

TEMPLATES = Path(html.__file__).parent / "templates"
CSS = (TEMPLATES / html.STYLESHEET).read_text(encoding="utf-8")
PAGES = ["report.html.j2", "compare.html.j2"]


@pytest.mark.parametrize("status", list(Status))
def test_every_status_word_has_its_colours(status: Status) -> None:
    rule = re.search(rf"\.st-{re.escape(status.value)}\b[^{{]*\{{([^}}]*)\}}", CSS)
    assert rule is not None, f"status.css has no rule for {status.value}"
    assert all(f"--{var}:" in rule.group(1) for var in ("fg", "bd", "bgc"))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_includes_the_stylesheet_and_defines_no_status_colours(page: str) -> None:
    text = (TEMPLATES / page).read_text(encoding="utf-8")
    assert f'{{% include "{html.STYLESHEET}" %}}' in text
    assert "--bgc:" not in text and not re.search(r"\.st-[a-z-]+\s*\{", text)
    words = "|".join(re.escape(s.value) for s in Status)
    assert not re.search(rf"(^|[\s,}}])\.({words})\s*[,{{]", text)  # old bare classes


def test_status_class_is_neutral_for_a_word_it_does_not_know() -> None:
    assert html.status_class("oom") == "st-oom"
    assert html.status_class("exploded") == "st-unknown"
    assert html.status_class(None) == "st-unknown"
