"""``docker build`` of a Dockerfile base, streamed: each step is logged as it starts (a
27-minute build must not be silence), the whole log is kept, and a failure is told in a
few clean lines.

Behind a TLS-intercepting proxy a build's own ``pip install`` needs the CA bundle too:
the build runs in a copy of the context with the bundle added as ``harness-ca.crt`` and
the build argument ``HARNESS_CA_CERT`` naming it (README "Dockerfile bases"); a build
that fails TLS verification anyway is told how to use it (``tls_fix``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from harness.engine.api import BuildChunk, read

CA_FILE = "harness-ca.crt"
CA_BUILD_ARG = "HARNESS_CA_CERT"
BUILD_HTTP_TIMEOUT = 3600  # a quiet compile step must not look like a dead engine
MAX_LOG_CHARS = 2_000_000
SUMMARY_LINES = 4
SUMMARY_CHARS = 400

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_STEP = re.compile(r"^Step \d+/\d+ : ")
_BUILT = re.compile(r"^Successfully built (?P<id>[0-9a-f]{12,})$", re.M)
# What a classic build prints that says nothing about why it failed.
_NOISE = re.compile(r"^(?: ---> |Removing intermediate container|Successfully |Sending build)")


class BuildError(Exception):
    """A build that failed: ``summary`` for the grid and console, ``log`` for logs/."""

    def __init__(self, summary: str, log: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.log = log


@dataclass(frozen=True)
class BuildRequest:
    context: Path
    dockerfile: Path
    tag: str
    build_args: dict[str, str]
    labels: dict[str, str]
    ca_bundle: Path | None = None
    target: str | None = None  # a stage of a multi-stage Dockerfile (docker build --target)


def clean_line(line: str) -> str:
    return _ANSI.sub("", line).rstrip()


# What a download refused by a TLS-intercepting proxy's certificate prints (pip, requests,
# curl, wget, apt over https, Go tools).
_TLS_FAILED = re.compile(
    r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSL certificate problem"
    r"|x509: certificate signed by unknown authority|server certificate verification failed"
    r"|unable to get local issuer certificate|self[- ]signed certificate in certificate chain",
    re.I,
)
CA_USE = (
    f"ARG {CA_BUILD_ARG}` + `COPY ${{{CA_BUILD_ARG}}} /usr/local/share/harness-ca.crt` and "
    "`PIP_CERT=/usr/local/share/harness-ca.crt` (or SSL_CERT_FILE / REQUESTS_CA_BUNDLE) "
    "on the RUN that downloads"
)


def tls_fix(log: str, ca_given: bool) -> str | None:
    """The fix for a build whose download failed on an untrusted certificate (a TLS-
    intercepting proxy), or None when the log shows no such failure."""
    if not _TLS_FAILED.search(_ANSI.sub("", log)):
        return None
    if ca_given:
        return (
            "a download in the build failed TLS verification (a TLS-intercepting proxy?): "
            f"harness passes the CA bundle as the build argument {CA_BUILD_ARG}; fix: in the "
            f"Dockerfile `{CA_USE} (docs/guide.md, Dockerfile bases)"
        )
    return (
        "a download in the build failed TLS verification (a TLS-intercepting proxy?) and no "
        "CA bundle was given: fix: set settings.ca_bundle to the proxy's CA file, then in the "
        f"Dockerfile `{CA_USE}; harness passes it as the build argument {CA_BUILD_ARG} "
        "(docs/guide.md, Dockerfile bases)"
    )


_RUN_FAILED = re.compile(r"^The command '.*' returned a non-zero code: (?P<code>\d+)$")


def summarize(log: str) -> str:
    """The last meaningful lines of a failed build in one line, cut at a word: what the
    failing step printed, then how it ended (not the whole RUN line again)."""
    lines = [clean_line(x) for x in log.splitlines()]
    kept = [x for x in lines if x.strip() and not _NOISE.match(x) and not _STEP.match(x)]
    kept = [_short_verdict(x) for x in kept]
    text = " | ".join(kept[-SUMMARY_LINES:])
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = text[: SUMMARY_CHARS - 1]
    return cut[: cut.rfind(" ")].rstrip(" |") + "…" if " " in cut else cut + "…"


def _short_verdict(line: str) -> str:
    failed = _RUN_FAILED.match(line)
    return f"the RUN step returned a non-zero code: {failed['code']}" if failed else line


@contextmanager
def build_context(request: BuildRequest) -> Iterator[tuple[Path, dict[str, str]]]:
    """The folder to build from and the build args: the user's context as it is, or a
    copy with the CA bundle added when there is one to give."""
    if request.ca_bundle is None or not request.ca_bundle.is_file():
        yield request.context, dict(request.build_args)
        return
    with tempfile.TemporaryDirectory(prefix="harness-build-") as tmp:
        copy = Path(tmp) / "context"
        shutil.copytree(request.context, copy, symlinks=True)
        shutil.copyfile(request.ca_bundle, copy / CA_FILE)
        yield copy, {**request.build_args, CA_BUILD_ARG: CA_FILE}


def stream_build(
    client: docker.DockerClient, request: BuildRequest, log: Callable[[str], None]
) -> tuple[str, str]:
    """Build ``request``; return (image id, build log). Raises BuildError."""
    collected: list[str] = []
    with build_context(request) as (context, args):
        dockerfile = request.dockerfile
        if dockerfile.is_relative_to(request.context):
            dockerfile = context / dockerfile.relative_to(request.context)
        chunks = client.api.build(
            path=str(context),
            dockerfile=str(dockerfile),
            buildargs=args,
            target=request.target,
            tag=request.tag,
            rm=True,
            forcerm=True,
            labels=request.labels,
            pull=False,
            decode=True,
            timeout=BUILD_HTTP_TIMEOUT,
        )
        image_id = _follow(chunks, collected, log)
    text = "".join(collected)[-MAX_LOG_CHARS:]
    if image_id is None:
        ca_given = request.ca_bundle is not None and request.ca_bundle.is_file()
        fix = tls_fix(text, ca_given)
        raise BuildError(summarize(text) + (f"; {fix}" if fix else ""), text)
    return image_id, text


def _follow(
    chunks: Iterator[object], collected: list[str], log: Callable[[str], None]
) -> str | None:
    image_id: str | None = None
    failed = False
    try:
        for chunk in chunks:
            answer = read(BuildChunk, chunk)
            if answer.stream is not None:
                collected.append(answer.stream)
                for line in answer.stream.splitlines():
                    if _STEP.match(clean_line(line)):
                        log(clean_line(line))
            if answer.error is not None:
                failed = True
                collected.append(str(answer.error) + "\n")
            if answer.aux is not None and answer.aux.id:
                image_id = answer.aux.id
    except docker.errors.APIError as err:
        collected.append(f"{err.explanation or err}\n")
        failed = True
    if image_id is None and not failed:  # engines that send no aux record say it in words
        built = _BUILT.search("".join(collected))
        image_id = built["id"] if built else None
    return None if failed else image_id
