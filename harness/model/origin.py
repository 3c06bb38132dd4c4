"""Where a base image came from: the one definition every document names a base by.

A base record (results.json's ``bases[]``) carries ``origin``:
- ``pulled``: pulled from its registry by this run (``digest`` is the manifest it got);
- ``local``: an image reference found in the engine, not pulled by this run (``digest`` is
  the one it was pulled at earlier, when the engine knows it);
- ``dockerfile``: built here from the user's Dockerfile;
- ``stand-in``: built here because the image reference could not be had (``standin`` says
  what it is);
- ``debootstrap``: a base defined as a recipe built here from Debian's archive.
Results written before the field existed are read from ``standin`` and ``kind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

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


def origin_of(base: Mapping[str, Any]) -> str | None:
    """The base's origin word, or None for an unavailable base of an old run."""
    origin = base.get("origin")
    if origin in TAGS:
        return str(origin)
    if base.get("standin"):
        return STANDIN
    if base.get("kind") == "dockerfile":
        return DOCKERFILE
    if base.get("kind") == "debootstrap":
        return DEBOOTSTRAP
    return None


def short_digest(digest: str | None) -> str | None:
    """sha256:4c1d…(64 hex) → sha256:4c1d4c1d4c1d…"""
    if not digest:
        return None
    prefix, _, hexes = str(digest).rpartition("sha256:")
    return f"{prefix}sha256:{hexes[:12]}…" if len(hexes) == 64 else str(digest)


def origin_text(base: Mapping[str, Any]) -> str:
    """One line for a reader: where the base came from, with its digest or description."""
    origin = origin_of(base)
    digest = short_digest(base.get("digest"))
    reference = base.get("pulled_reference") or base.get("reference")
    if origin == PULLED:
        return f"pulled {reference}" + (f", digest {digest}" if digest else " (no digest)")
    if origin == LOCAL:
        at = f", digest {digest}" if digest else ""
        return f"local image {base.get('reference')}, not pulled by this run{at}"
    if origin == DOCKERFILE:
        return f"built from your Dockerfile {base.get('reference')}"
    if origin == STANDIN:
        return str(base.get("standin") or "stand-in built locally")
    if origin == DEBOOTSTRAP:
        return "built here from Debian's archive (debootstrap recipe)"
    if base.get("status") == "available":
        return "image (origin not recorded by this run)"
    return "not available"


def origin_tag(base: Mapping[str, Any]) -> str | None:
    origin = origin_of(base)
    return TAGS[origin] if origin else None


def origin_brief(base: Mapping[str, Any]) -> str | None:
    """The tag, with the short digest when there is one: "pulled sha256:4c1d4c1d4c1d…"."""
    tag = origin_tag(base)
    digest = short_digest(base.get("digest")) if origin_of(base) in (PULLED, LOCAL) else None
    return f"{tag} {digest}" if tag and digest else tag
