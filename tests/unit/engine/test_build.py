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


TLS_FAILURE = (
    "Step 4/5 : RUN pip install -r requirements.txt\n ---> Running in 1ef4cf58f88f\n"
    "WARNING: Retrying (Retry(total=4)) after connection broken by "
    "'SSLError(SSLCertVerificationError"
    "(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer "
    "certificate (_ssl.c:1006)'))': /simple/six/\n"
    "ERROR: No matching distribution found for six\n"
)


class _FakeApi:
    def __init__(self, chunks: list[dict[str, object]]) -> None:
        self.chunks = chunks

    def build(self, **_kwargs: object) -> object:
        return iter(self.chunks)


class _FakeClient:
    def __init__(self, chunks: list[dict[str, object]]) -> None:
        self.api = _FakeApi(chunks)


def _failed_build(tmp_path: Path, log: str, bundle: Path | None) -> str:
    import pytest

    from harness.engine.build import BuildError, stream_build

    context = tmp_path / "ctx"
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text("FROM x\n", encoding="utf-8")
    chunks: list[dict[str, object]] = [{"stream": log}, {"error": "The command returned 1"}]
    request = BuildRequest(context, context / "Dockerfile", "t:1", {}, {}, bundle)
    with pytest.raises(BuildError) as failed:
        stream_build(_FakeClient(chunks), request, lambda _line: None)  # type: ignore[arg-type]
    return failed.value.summary


def test_a_tls_failure_in_a_build_names_harness_ca_cert_and_the_fix(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.crt"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    summary = _failed_build(tmp_path, TLS_FAILURE, bundle)
    assert "No matching distribution found for six" in summary  # what failed, first
    assert "failed TLS verification" in summary
    assert f"ARG {CA_BUILD_ARG}" in summary and "PIP_CERT=" in summary
    assert "COPY ${HARNESS_CA_CERT}" in summary
    # no CA bundle given: the fix starts with the setting that gives one
    bare = _failed_build(tmp_path, TLS_FAILURE, None)
    assert "set settings.ca_bundle" in bare and CA_BUILD_ARG in bare


def test_a_build_failure_without_tls_gets_no_ca_advice(tmp_path: Path) -> None:
    summary = _failed_build(tmp_path, CLASSIC_FAILURE, None)
    assert CA_BUILD_ARG not in summary and "TLS" not in summary


def test_a_build_target_is_passed_to_the_engine(tmp_path: Path) -> None:
    from harness.engine.build import stream_build

    seen: dict[str, object] = {}

    class Api:
        def build(self, **kwargs: object) -> object:
            seen.update(kwargs)
            return iter([{"aux": {"ID": "sha256:" + "a" * 64}}])

    class Client:
        api = Api()

    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM x AS build\nFROM x\n", encoding="utf-8")
    request = BuildRequest(context, context / "Dockerfile", "t:1", {}, {}, None, target="build")
    image_id, _log = stream_build(Client(), request, lambda _line: None)  # type: ignore[arg-type]
    assert seen["target"] == "build" and image_id == "sha256:" + "a" * 64
