"""Where a base came from, as every document names it."""

from __future__ import annotations

from harness.model.origin import origin_brief, origin_of, origin_tag, origin_text

DIGEST = "sha256:" + "4c1d" * 16


def test_each_origin_reads_as_what_it_is() -> None:
    pulled = {"origin": "pulled", "reference": "python:3.11-slim", "digest": DIGEST}
    assert origin_text(pulled) == "pulled python:3.11-slim, digest sha256:4c1d4c1d4c1d…"
    assert origin_brief(pulled) == "pulled sha256:4c1d4c1d4c1d…"
    mirrored = {**pulled, "pulled_reference": "mirror:5000/library/python:3.11-slim"}
    assert origin_text(mirrored).startswith("pulled mirror:5000/library/python:3.11-slim")
    dockerfile = {"origin": "dockerfile", "reference": "bases/app/Dockerfile", "kind": "dockerfile"}
    assert origin_text(dockerfile) == "built from your Dockerfile bases/app/Dockerfile"
    assert origin_tag(dockerfile) == "your Dockerfile"
    standin = {"origin": "stand-in", "standin": "stand-in for python:3.11-slim: Debian 12"}
    assert origin_text(standin) == standin["standin"] and origin_tag(standin) == "stand-in"
    local = {"origin": "local", "reference": "python:3.11-slim", "digest": None}
    assert origin_text(local) == "local image python:3.11-slim, not pulled by this run"


def test_a_dockerfile_base_is_never_an_official_image_even_in_old_results() -> None:
    old = {"kind": "dockerfile", "reference": "Dockerfile", "status": "available"}
    assert origin_of(old) == "dockerfile"
    assert "official" not in origin_text(old)
    unknown = {"kind": "image", "reference": "python:3.11-slim", "status": "available"}
    assert origin_text(unknown) == "image (origin not recorded by this run)"


def test_the_typed_base_record_reads_the_same() -> None:
    from harness.model.results import BaseRecord

    for base in (
        {"origin": "pulled", "reference": "python:3.11-slim", "digest": DIGEST},
        {"origin": "local", "reference": "python:3.11-slim", "digest": DIGEST},
        {"standin": "stand-in for python:3.11-slim: Debian 12"},
        {"kind": "debootstrap", "reference": "bookworm"},
        {"status": "unavailable", "reason": "no such image"},
    ):
        record = BaseRecord.from_dict({"name": "b", **base})
        assert origin_text(record) == origin_text(base)
        assert origin_brief(record) == origin_brief(base)
        assert origin_of(record) == origin_of(base)
    assert origin_brief(BaseRecord(name="b", origin="local", digest=DIGEST)) == (
        "local image sha256:4c1d4c1d4c1d…"
    )
    assert origin_text(BaseRecord(name="b")) == "not available"


STANDIN_TEXT = "stand-in for python:3.11-slim: Debian 12 + Debian's python3.11, built locally"


def test_a_dockerfile_base_names_the_stand_in_it_was_built_from() -> None:
    from harness.model.results import BaseRecord

    team = {
        "name": "team",
        "origin": "dockerfile",
        "kind": "dockerfile",
        "reference": "team/Dockerfile",
        "base_args": {
            "BASE": {"base": "py311-slim", "origin": "stand-in", "standin": STANDIN_TEXT}
        },
    }
    expected = f"built from your Dockerfile team/Dockerfile, FROM py311-slim ({STANDIN_TEXT})"
    assert origin_text(team) == expected
    assert origin_tag(team) == "your Dockerfile, FROM py311-slim (stand-in)"
    assert origin_brief(team) == "your Dockerfile, FROM py311-slim (stand-in)"
    typed = BaseRecord.from_dict(team)
    assert origin_text(typed) == expected and origin_tag(typed) == origin_tag(team)
    # FROM a pulled image: its digest; FROM another Dockerfile FROM a stand-in: the chain
    pulled = {
        **team,
        "base_args": {
            "BASE": {
                "base": "py311",
                "origin": "pulled",
                "reference": "python:3.11-slim",
                "digest": DIGEST,
            }
        },
    }
    assert origin_text(pulled).endswith(
        "FROM py311 (pulled python:3.11-slim, digest sha256:4c1d4c1d4c1d…)"
    )
    chain = {
        **team,
        "base_args": {
            "BASE": {
                "base": "team",
                "origin": "dockerfile",
                "reference": "team/Dockerfile",
                "base_args": team["base_args"],
            }
        },
    }
    assert origin_tag(chain) == (
        "your Dockerfile, FROM team (your Dockerfile, FROM py311-slim (stand-in))"
    )
    assert STANDIN_TEXT in origin_text(chain)


def test_a_dockerfile_built_from_a_standin_rests_on_the_standin() -> None:
    from harness.model.origin import on_standin

    standin = {"origin": "stand-in", "standin": STANDIN_TEXT}
    team = {"origin": "dockerfile", "reference": "Dockerfile",
            "base_args": {"BASE": {"base": "py311-slim", **standin}}}  # fmt: skip
    chain = {"origin": "dockerfile", "base_args": {"BASE": {"base": "team", **team}}}
    from_pulled = {"base": "py311", "origin": "pulled", "digest": DIGEST}
    pulled = {"origin": "dockerfile", "base_args": {"BASE": from_pulled}}
    assert on_standin(standin) and on_standin(team) and on_standin(chain)
    assert not on_standin(pulled) and not on_standin({"origin": "local"})


def test_the_standin_caveat_names_the_standin_or_the_dockerfile_on_it() -> None:
    from harness.model.origin import standin_text

    standin = {"origin": "stand-in", "standin": STANDIN_TEXT}
    team = {"origin": "dockerfile", "reference": "Dockerfile",
            "base_args": {"BASE": {"base": "py311-slim", **standin}}}  # fmt: skip
    from_pulled = {"base": "py311", "origin": "pulled", "digest": DIGEST}
    assert standin_text(standin) == STANDIN_TEXT
    assert (
        standin_text(team)
        == f"built from your Dockerfile Dockerfile, FROM py311-slim ({STANDIN_TEXT})"
    )
    assert standin_text({"origin": "dockerfile", "base_args": {"BASE": from_pulled}}) is None
    assert standin_text({"origin": "pulled", "digest": DIGEST}) is None
