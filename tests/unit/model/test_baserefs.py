"""Reading base images out of Dockerfiles and compose files, as docker would read them."""

from __future__ import annotations

import pytest

from harness.model.baserefs import (
    BaseUse,
    ChangeKind,
    compare_uses,
    instructions,
    parse_build_args,
    parse_compose,
    parse_dockerfile,
    parse_dotenv,
    parse_reference,
)

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "familiar"),
    [
        ("python:3.11-slim", "docker.io", "library/python", "3.11-slim", "python:3.11-slim"),
        ("python", "docker.io", "library/python", None, "python"),
        ("docker.io/library/python:3.13", "docker.io", "library/python", "3.13", "python:3.13"),
        ("index.docker.io/python:3.13", "docker.io", "library/python", "3.13", "python:3.13"),
        ("bitnami/python:3.11", "docker.io", "bitnami/python", "3.11", "bitnami/python:3.11"),
        ("localhost/app", "localhost", "app", None, "localhost/app"),
        ("127.0.0.1:5000/library/python:3.11", "127.0.0.1:5000", "library/python", "3.11",
         "127.0.0.1:5000/library/python:3.11"),
        ("gcr.io/distroless/python3-debian12:nonroot", "gcr.io", "distroless/python3-debian12",
         "nonroot", "gcr.io/distroless/python3-debian12:nonroot"),
    ],
)  # fmt: skip
def test_references_are_normalised_as_docker_does(
    text: str, domain: str, path: str, tag: str | None, familiar: str
) -> None:
    ref = parse_reference(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, None)
    assert ref.familiar == familiar


def test_a_digest_is_split_from_the_tag_and_latest_is_implied_only_without_either() -> None:
    ref = parse_reference(f"python:3.11-slim@{DIGEST_A}")
    assert (ref.tag, ref.digest, ref.effective_tag) == ("3.11-slim", DIGEST_A, "3.11-slim")
    assert parse_reference(f"python@{DIGEST_A}").effective_tag is None
    assert parse_reference("python").effective_tag == "latest"
    assert ref.familiar_name_tag == "python:3.11-slim"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Python:3.11", "lower case"),
        ("python:3.11 slim", "not an image reference"),
        ("python@sha256:abc", "not a digest"),
        ("acme/py-:1", "not a valid repository name"),
        ("", "not an image reference"),
    ],
)
def test_a_bad_reference_says_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_reference(text)


def images(uses: tuple[BaseUse, ...]) -> list[tuple[str, str | None, str | None]]:
    return [(u.where, u.image.familiar if u.image else None, u.problem) for u in uses]


def test_every_stage_is_read_and_a_stage_alias_is_not_a_base() -> None:
    text = (
        "FROM --platform=linux/amd64 python:3.11-slim AS builder\n"
        "RUN pip wheel .\n"
        "FROM Builder AS tests\n"  # an earlier stage, named in another case
        "FROM gcr.io/distroless/python3 as final\n"
        "COPY --from=builder /w /w\n"
        "FROM runtime\n"  # not a stage above: an image
    )
    uses = parse_dockerfile(text, "Dockerfile")
    assert images(uses) == [
        ("stage builder", "python:3.11-slim", None),
        ("stage final", "gcr.io/distroless/python3", None),
        ("stage 3", "runtime", None),
    ]
    assert uses[0].platform == "linux/amd64" and uses[0].line == 1
    assert [u.key for u in uses] == ["stage builder", "stage final", "stage #0"]


def test_global_args_resolve_from_defaults_and_build_args_win() -> None:
    text = (
        "ARG PY=3.11\n"
        "ARG FLAVOUR=slim TAG=${PY}-${FLAVOUR}\n"
        'ARG REG="ghcr.io/acme"\n'
        "FROM python:$TAG AS a\n"
        "FROM ${REG}/py:${PY:-3.9} AS b\n"
        "FROM python:${MISSING:-3.10}${FLAVOUR:+-$FLAVOUR} AS c\n"
        "ARG PY=3.99\n"  # after the first FROM: a stage's ARG, not for FROM lines
        "FROM python:${PY} AS d\n"
    )
    assert [u.image.familiar if u.image else None for u in parse_dockerfile(text, "D")] == [
        "python:3.11-slim",
        "ghcr.io/acme/py:3.11",
        "python:3.10-slim",
        "python:3.11",
    ]
    overridden = parse_dockerfile(text, "D", {"PY": "3.13", "FLAVOUR": "alpine", "NOPE": "x"})
    assert [u.image.familiar if u.image else None for u in overridden] == [
        "python:3.13-alpine",  # TAG's default is built from the overridden args
        "ghcr.io/acme/py:3.13",
        "python:3.10-alpine",
        "python:3.13",
    ]


def test_a_variable_without_a_value_is_named_not_guessed() -> None:
    text = (
        "ARG BASE\n"
        "FROM ${BASE} AS one\n"
        "FROM python:${UNDECLARED} AS two\n"
        "FROM base-${TARGETARCH} AS three\n"
        "FROM ${BASE:?needs-the-runtime-image} AS four\n"
        "FROM ${BASE:+x} AS five\n"
    )
    assert images(parse_dockerfile(text, "Dockerfile")) == [
        ("stage one", None, "BASE has no default and no --build-arg"),
        ("stage two", None, "UNDECLARED is not declared by an ARG before the first FROM"),
        (
            "stage three",
            None,
            "TARGETARCH is set by the builder for each platform; pass --build-arg TARGETARCH=…",
        ),
        ("stage four", None, "BASE is not set: needs-the-runtime-image"),
        ("stage five", None, "names no image once expanded"),
    ]
    uses = parse_dockerfile(text, "Dockerfile", {"BASE": "python:3.13"})
    assert uses[0].image is not None and uses[0].image.familiar == "python:3.13"
    assert uses[0].located == "Dockerfile:2 FROM ${BASE}"


def test_directives_continuations_comments_and_heredocs_do_not_confuse_the_parser() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "# escape=`\n"
        "\n"
        "# FROM commented:out\n"
        "ARG PY=3.11\n"
        "FROM `\n"
        "  # a comment inside the continuation\n"
        "\n"
        "  python:${PY}-slim `\n"
        "  AS builder\n"
        "RUN <<EOF\n"
        "FROM heredoc:body\n"
        "EOF\n"
        "COPY <<-'ONE' /a <<TWO /b\n"
        "\tFROM tabbed:body\n"
        "\tONE\n"
        "FROM second:body\n"
        "TWO\n"
        'RUN echo "<<NOT a heredoc" && echo C:\\path\\ \n'
        "FROM debian:bookworm-slim\n"
    )
    assert [(i.line, i.keyword) for i in instructions(text)] == [
        (5, "ARG"),
        (6, "FROM"),
        (11, "RUN"),
        (14, "COPY"),
        (19, "RUN"),
        (20, "FROM"),
    ]
    assert images(parse_dockerfile(text, "Dockerfile")) == [
        ("stage builder", "python:3.11-slim", None),
        ("stage 1", "debian:bookworm-slim", None),
    ]


def test_directives_count_only_at_the_very_top() -> None:
    text = "FROM python:3.11\n# escape=`\nRUN a `\nFROM b:1\n"
    # The escape directive comes after an instruction: a comment, so ` continues nothing.
    assert [u.image.familiar if u.image else None for u in parse_dockerfile(text, "D")] == [
        "python:3.11",
        "b:1",
    ]


def test_compose_images_are_interpolated_from_defaults_and_build_services_skipped() -> None:
    text = (
        "x-common: &common\n"
        "  restart: always\n"
        "services:\n"
        "  web:\n"
        "    <<: *common\n"
        "    image: ${WEB_IMAGE:-nginx}:${NGINX:-1.25}\n"
        "  app:\n"
        "    build: .\n"
        "    image: acme/app:dev\n"
        "  db:\n"
        "    image: postgres:16@" + DIGEST_A + "\n"
        "  cache:\n"
        "    image: $REDIS\n"
        "  literal:\n"
        "    image: acme/$$odd\n"
    )
    uses = parse_compose(text, "compose.yaml")
    assert [(u.where, u.line) for u in uses] == [
        ("service web", 6),
        ("service db", 11),
        ("service cache", 13),
        ("service literal", 15),
    ]
    assert uses[0].image is not None and uses[0].image.familiar == "nginx:1.25"
    assert uses[1].image is not None and uses[1].image.digest == DIGEST_A
    assert uses[2].problem == (
        "REDIS has no default in the file nor in .env (the environment is not read)"
    )
    assert uses[3].problem is not None and "not an image reference" in uses[3].problem


def test_a_compose_file_that_is_not_yaml_is_a_problem_not_a_crash() -> None:
    (use,) = parse_compose("services:\n  web: [\n", "compose.yaml")
    assert use.image is None and use.problem is not None and use.problem.startswith("not YAML")
    assert parse_compose("just text\n", "compose.yaml") == ()


def test_comparing_drops_unchanged_and_names_each_kind_of_change() -> None:
    before = parse_dockerfile(
        "FROM python:3.11-slim AS builder\n"
        f"FROM debian:bookworm@{DIGEST_A} AS runtime\n"
        "FROM alpine:3.20 AS same\n"
        "FROM busybox AS gone\n"
        "FROM --platform=linux/amd64 node:22 AS plat\n"
        "FROM python:3.11 AS moved\n",
        "Dockerfile",
    )
    after = parse_dockerfile(
        "FROM python:3.13-slim AS builder\n"
        f"FROM debian:bookworm@{DIGEST_B} AS runtime\n"
        "FROM alpine:3.20 AS same\n"
        "FROM --platform=linux/arm64 node:22 AS plat\n"
        "FROM gcr.io/distroless/python3 AS moved\n"
        "FROM python:3.13 AS tests\n",
        "Dockerfile",
    )
    changes, unresolved = compare_uses(before, after)
    assert unresolved == ()
    assert [(c.kind, c.where) for c in changes] == [
        (ChangeKind.TAG, "stage builder"),
        (ChangeKind.DIGEST, "stage runtime"),
        (ChangeKind.PLATFORM, "stage plat"),
        (ChangeKind.IMAGE, "stage moved"),
        (ChangeKind.ADDED, "stage tests"),
        (ChangeKind.REMOVED, "stage gone"),
    ]
    new = changes[1].to_dict()["new"]
    assert new is not None and new["image"] is not None and new["image"]["digest"] == DIGEST_B


def test_an_unresolved_reference_is_reported_and_no_change_is_inferred_from_it() -> None:
    old = parse_dockerfile("ARG B\nFROM ${B}\nFROM python:3.11 AS x\n", "D")
    new = parse_dockerfile("ARG B\nFROM ${B}\nFROM ${X} AS x\n", "D")
    changes, unresolved = compare_uses(old, new)
    assert changes == ()
    assert [(u.use.where, u.sides) for u in unresolved] == [
        ("stage 0", ("base", "head")),
        ("stage x", ("head",)),
    ]


def test_build_args_follow_docker_build() -> None:
    assert parse_build_args(["A=1", "B=", "C=x=y", "FROM_ENV", "NOT_SET"], {"FROM_ENV": "e"}) == {
        "A": "1",
        "B": "",
        "C": "x=y",
        "FROM_ENV": "e",
    }
    with pytest.raises(ValueError, match="1A=2"):
        parse_build_args(["1A=2"], {})


def test_a_byte_order_mark_crlf_lower_case_keywords_and_a_trailing_continuation() -> None:
    text = "\ufeff# escape=`\r\nARG V=3.13\r\nfrom python:$V AS a\r\n"
    text += "from `\r\n  debian:trixie `\r\n"
    assert [u.image.familiar if u.image else None for u in parse_dockerfile(text, "D")] == [
        "python:3.13",
        "debian:trixie",
    ]


def test_a_compose_platform_is_compared() -> None:
    old = parse_compose("services:\n  a:\n    image: node:22\n", "c.yaml")
    new = parse_compose("services:\n  a:\n    image: node:22\n    platform: linux/arm64\n", "c")
    ((change,), _) = compare_uses(old, new)
    assert change.kind is ChangeKind.PLATFORM
    assert change.new and change.new.platform == "linux/arm64"


def test_a_dotenv_file_fills_compose_variables() -> None:
    dotenv = parse_dotenv(
        "# pins\nexport REDIS=redis:7.4\nPG='postgres:16'\nNODE=node:22 # lts\nnot a line\n"
    )
    assert dotenv == {"REDIS": "redis:7.4", "PG": "postgres:16", "NODE": "node:22"}
    text = "services:\n  cache:\n    image: $REDIS\n  db:\n    image: ${PG:-postgres:15}\n"
    uses = parse_compose(text, "compose.yaml", dotenv)
    assert [u.image.familiar if u.image else None for u in uses] == ["redis:7.4", "postgres:16"]


def test_stage_names_are_the_names_after_as_in_order() -> None:
    from harness.model.baserefs import stage_names

    text = (
        "ARG BASE=python:3.11-slim\nFROM --platform=$BUILDPLATFORM ${BASE} AS Build\n"
        "RUN pip install six\nFROM ${BASE}\nFROM build as test\n"
    )
    assert stage_names(text) == ["Build", "test"]
