"""A failed docker build told in one clean line; the CA bundle added to the context."""

from __future__ import annotations

from pathlib import Path

from harness.engine.build import CA_BUILD_ARG, CA_FILE, BuildRequest, build_context, summarize

CLASSIC_FAILURE = (
    "Step 1/3 : ARG BASE\n"
    "Step 2/3 : FROM ${BASE}\n ---> 15ab3fd75e51\n"
    "Step 3/3 : RUN make\n ---> Running in 1ef4cf58f88f\n"
    "\x1b[31mcompiling\x1b[0m\n"
    "error: libteam.so: cannot open shared object file\n"
    "Removing intermediate container 1ef4cf58f88f\n"
    "The command '/bin/sh -c make' returned a non-zero code: 3\n"
)


def test_the_summary_keeps_the_meaningful_lines_without_colour() -> None:
    text = summarize(CLASSIC_FAILURE)
    assert "\x1b" not in text
    assert "error: libteam.so: cannot open shared object file" in text
    assert text.endswith("the RUN step returned a non-zero code: 3")
    assert "Removing intermediate" not in text and "--->" not in text


def test_a_long_summary_is_cut_at_a_word() -> None:
    text = summarize("word " * 400)
    assert len(text) <= 400 and text.endswith("…") and not text.endswith(" …")
    assert text[:-1].split(" ")[-1] == "word"


def test_the_ca_bundle_is_added_to_a_copy_of_the_context(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM x\n", encoding="utf-8")
    bundle = tmp_path / "ca.crt"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    request = BuildRequest(context, context / "Dockerfile", "t:1", {"A": "1"}, {}, bundle)
    with build_context(request) as (where, args):
        assert where != context and (where / CA_FILE).read_text(
            encoding="utf-8"
        ) == bundle.read_text(encoding="utf-8")
        assert args == {"A": "1", CA_BUILD_ARG: CA_FILE}
    assert not (context / CA_FILE).exists()  # the user's folder is never written
    plain = BuildRequest(context, context / "Dockerfile", "t:1", {}, {}, None)
    with build_context(plain) as (where, args):
        assert where == context and args == {}
