"""URL credentials are masked in linear time (issue 24): every step's output (up to
1 MiB + 64 KiB) goes through ``mask_userinfo``, and a long unbroken token used to cost
quadratic time (80 KB took 9.5 s)."""

from __future__ import annotations

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model.redaction import MASK, mask_userinfo, userinfo_spans
from harness.run.redact import Redactor

# The rule as one regular expression: the oracle the linear scanner must agree with.
_ORACLE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_MIB = 1024 * 1024


def _oracle_mask(text: str) -> str:
    return _ORACLE.sub(lambda m: f"{m['scheme']}{MASK}@", text)


def test_two_mib_of_unbroken_token_is_redacted_in_well_under_a_second() -> None:
    shapes = {
        "letters": "a" * (2 * _MIB),
        "after a scheme": "https://" + "a" * (2 * _MIB),
        "a long scheme": "a" * (2 * _MIB) + "://host/x",
        "schemes without userinfo": "a://b/" * (2 * _MIB // 6),
        "userinfo without @": "https://user:" + "p" * (2 * _MIB),
    }
    redactor = Redactor(["not-in-the-text"])
    for name, text in shapes.items():
        started = time.perf_counter()
        redactor.text(text)
        elapsed = time.perf_counter() - started
        # Quadratic time took hours at this size; linear takes milliseconds.
        assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"


def test_a_huge_credential_is_still_masked_whole() -> None:
    text = "GET https://me:" + "t" * _MIB + "@host/simple 401"
    assert mask_userinfo(text) == f"GET https://{MASK}@host/simple 401"


def test_the_scanner_matches_the_rule_on_edge_cases() -> None:
    cases = [
        "1https://u:p@h",  # the scheme starts at the first letter
        "x=+.-git+ssh://u@h/r",
        "https://a@b@c/",  # userinfo ends at the first @
        "a://b://u:p@h",
        "http://u p@h",  # whitespace ends userinfo
        "s3://k:s@b s3://k2:s2@b2",
        "://u@h",
        ":///u@h",
        "ftp://@h",
        "https://u:p@",
    ]
    for text in cases:
        assert mask_userinfo(text) == _oracle_mask(text), text
    spans = [(m.scheme, m.userinfo) for m in userinfo_spans("https://a:b@h and git+ssh://c@d")]
    assert spans == [("https://", "a:b"), ("git+ssh://", "c")]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab1+.-:/@ \n", max_size=40))
def test_the_scanner_agrees_with_the_regular_expression(text: str) -> None:
    assert mask_userinfo(text) == _oracle_mask(text)
