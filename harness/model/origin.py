"""Where a base image came from: the one definition every document names a base by.

A base record (results.json's ``bases[]``) carries ``origin``:
- ``pulled``: pulled from its registry by this run (``digest`` is the manifest it got);
- ``local``: an image reference found in the engine, not pulled by this run (``digest`` is
  the one it was pulled at earlier, when the engine knows it);
- ``dockerfile``: built here from the user's Dockerfile; ``base_args`` names the base(s)
  it was built FROM and how each was had, so its words name the stand-in under it
  ("built from your Dockerfile app/Dockerfile, FROM py311-slim (stand-in for …)");
- ``stand-in``: built here because the image reference could not be had (``standin`` says
  what it is);
- ``debootstrap``: a base defined as a recipe built here from Debian's archive.
Results written before the field existed are read from ``standin`` and ``kind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from harness.model.results import BaseArg, BaseRecord

PULLED: Final = "pulled"
LOCAL: Final = "local"
DOCKERFILE: Final = "dockerfile"
STANDIN: Final = "stand-in"
DEBOOTSTRAP: Final = "debootstrap"

# The short tag shown next to a base's name.
TAGS: Final[Mapping[str, str]] = {
    PULLED: "pulled",
    LOCAL: "local image",
    DOCKERFILE: "your Dockerfile",
    STANDIN: "stand-in",
    DEBOOTSTRAP: "Debian recipe",
}


# The base record's fields the origin is read from.
_FIELDS = (
    "origin",
    "standin",
    "kind",
    "digest",
    "pulled_reference",
    "reference",
    "status",
    "base_args",
)
# A base as the documents hold it: the typed record, or (callers not converted yet) its
# dict from results.json, of which only the fields above are read.
AnyBase = BaseRecord | Mapping[str, object]  # a mapping: validated as BaseRecord


def _record(base: AnyBase) -> BaseRecord:
    if isinstance(base, BaseRecord):
        return base
    return BaseRecord.from_dict({"name": "", **{k: base[k] for k in _FIELDS if k in base}}, "base")


def origin_of(base: AnyBase) -> str | None:
    """The base's origin word, or None for an unavailable base of an old run."""
    record = _record(base)
    if record.origin in TAGS:
        return record.origin
    if record.standin:
        return STANDIN
    if record.kind == "dockerfile":
        return DOCKERFILE
    if record.kind == "debootstrap":
        return DEBOOTSTRAP
    return None


def short_digest(digest: str | None) -> str | None:
    """sha256:4c1d…(64 hex) → sha256:4c1d4c1d4c1d…"""
    if not digest:
        return None
    prefix, _, hexes = str(digest).rpartition("sha256:")
    return f"{prefix}sha256:{hexes[:12]}…" if len(hexes) == 64 else str(digest)


def origin_text(base: AnyBase) -> str:
    """One line for a reader: where the base came from, with its digest or description."""
    record = _record(base)
    origin = origin_of(record)
    digest = short_digest(record.digest)
    reference = record.pulled_reference or record.reference
    if origin == PULLED:
        return f"pulled {reference}" + (f", digest {digest}" if digest else " (no digest)")
    if origin == LOCAL:
        at = f", digest {digest}" if digest else ""
        return f"local image {record.reference}, not pulled by this run{at}"
    if origin == DOCKERFILE:
        return f"built from your Dockerfile {record.reference}" + "".join(
            f", FROM {arg.base} ({origin_text(_from_base(arg))})" for arg in _base_args(record)
        )
    if origin == STANDIN:
        return record.standin or "stand-in built locally"
    if origin == DEBOOTSTRAP:
        return "built here from Debian's archive (debootstrap recipe)"
    if record.status == "available":
        return "image (origin not recorded by this run)"
    return "not available"


def origin_tag(base: AnyBase) -> str | None:
    """The short tag; a Dockerfile base's names what it was built FROM: "your Dockerfile,
    FROM py311-slim (stand-in)"."""
    record = _record(base)
    origin = origin_of(record)
    if origin is None:
        return None
    if origin == DOCKERFILE:
        return TAGS[origin] + "".join(
            f", FROM {arg.base}" + (f" ({tag})" if (tag := origin_tag(_from_base(arg))) else "")
            for arg in _base_args(record)
        )
    return TAGS[origin]


def on_standin(base: AnyBase) -> bool:
    """Whether what was measured rests on a stand-in: the base is one, or it is a
    Dockerfile built FROM one (at any depth). Such results describe the stand-in, never
    the official image; a verdict from them must say so."""
    record = _record(base)
    if origin_of(record) == STANDIN:
        return True
    return any(on_standin(_from_base(arg)) for arg in _base_args(record))


def standin_text(base: AnyBase) -> str | None:
    """What a stand-in caveat names, or None when nothing measured rests on a stand-in:
    a stand-in's own description, or a Dockerfile base's origin line ("built from your
    Dockerfile app/Dockerfile, FROM py311-slim (stand-in for …)")."""
    record = _record(base)
    if not on_standin(record):
        return None
    return record.standin or origin_text(record)


def _base_args(record: BaseRecord) -> list[BaseArg]:
    return list((record.base_args or {}).values())


def _from_base(arg: BaseArg) -> BaseRecord:
    """The base a Dockerfile was built FROM, as far as its record says."""
    return BaseRecord(
        name=arg.base,
        origin=arg.origin,
        standin=arg.standin,
        reference=arg.reference,
        digest=arg.digest,
        base_args=arg.base_args,
        status="available",
    )


def origin_brief(base: AnyBase) -> str | None:
    """The tag, with the short digest when there is one: "pulled sha256:4c1d4c1d4c1d…"."""
    record = _record(base)
    tag = origin_tag(record)
    digest = short_digest(record.digest) if origin_of(record) in (PULLED, LOCAL) else None
    return f"{tag} {digest}" if tag and digest else tag
