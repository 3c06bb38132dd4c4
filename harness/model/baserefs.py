"""Which base images a Dockerfile or a compose file names, and how they changed.

Pure: text in, frozen dataclasses out. Reading files at git refs is ``store.gitrefs``;
putting the two together is ``analysis.basechanges``.

A Dockerfile is read the way BuildKit reads it: parser directives at the very top
(``# escape=`` changes the escape character), line continuations, comment and blank lines
skipped (also inside a continuation), heredoc bodies after ``RUN``/``COPY``/``ADD`` skipped.
Every ``FROM`` of every stage is a *base use* unless it names an earlier stage (a stage
alias, case-insensitive) — a stage built on another stage has no base image of its own.
``FROM`` words are expanded from the global ``ARG``s (those before the first ``FROM``),
their defaults overridden by ``--build-arg``s, with the forms BuildKit knows: ``$VAR``,
``${VAR}``, ``${VAR:-word}``, ``${VAR-word}``, ``${VAR:+word}``, ``${VAR+word}``,
``${VAR:?message}``. A reference that needs a variable with no value is not guessed: its
use carries the reason (``problem``) and no image.

An image reference is normalised as docker does: ``python:3.11-slim`` is
``docker.io/library/python:3.11-slim``; a reference with neither tag nor digest means
``latest``.

A compose file's services with an ``image:`` key are base uses (interpolated from the
``${VAR:-default}`` defaults in the file and the ``.env`` beside it; the environment of
the machine that runs the check is not read); a
service with a ``build:`` key builds its image, so it has none to compare.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

import yaml

DEFAULT_DOMAIN = "docker.io"
OFFICIAL_NAMESPACE = "library"
SCRATCH = "scratch"

# Set by the builder for each build/target platform: their values are not in the repo.
PLATFORM_ARGS = frozenset(
    f"{side}{part}"
    for side in ("BUILD", "TARGET")
    for part in ("PLATFORM", "OS", "ARCH", "VARIANT")
)

# distribution/reference's grammar (the parts harness needs).
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_DOMAIN = re.compile(
    r"^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]+)?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")


# -- image references --------------------------------------------------------------------


# -- the JSON shapes (``harness check --list-changes --format json``, format CHANGES_FORMAT) -----


class ImageRefJSON(TypedDict):
    reference: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None


class BaseUseJSON(TypedDict):
    file: str
    line: int
    where: str
    written: str
    image: ImageRefJSON | None
    platform: str | None
    problem: str | None


class BaseChangeJSON(TypedDict):
    kind: str
    file: str
    where: str
    old: BaseUseJSON | None
    new: BaseUseJSON | None


class UnresolvedJSON(BaseUseJSON):
    sides: list[str]


class GitSideJSON(TypedDict):
    ref: str
    commit: str


class BaseChangesJSON(TypedDict):
    format: str
    base: GitSideJSON
    head: GitSideJSON
    files: list[str]
    changes: list[BaseChangeJSON]
    unresolved: list[UnresolvedJSON]


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: ``domain/path:tag@digest``, normalised as docker does."""

    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The repository, fully qualified: ``docker.io/library/python``."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def effective_tag(self) -> str | None:
        """The tag docker pulls: ``latest`` when neither a tag nor a digest is written."""
        return self.tag if self.tag or self.digest else "latest"

    @property
    def familiar(self) -> str:
        """The short form people write: ``python:3.11-slim``, ``ghcr.io/o/img@sha256:…``."""
        name = self.path if self.domain in ("", DEFAULT_DOMAIN) else self.name
        if self.domain == DEFAULT_DOMAIN and name.startswith(f"{OFFICIAL_NAMESPACE}/"):
            name = name.removeprefix(f"{OFFICIAL_NAMESPACE}/")
        tag = f":{self.tag}" if self.tag else ""
        return name + tag + (f"@{self.digest}" if self.digest else "")

    @property
    def familiar_name_tag(self) -> str:
        """The familiar form without the digest: what a tag change is about."""
        return ImageRef(self.domain, self.path, self.tag, None).familiar

    def to_dict(self) -> ImageRefJSON:
        return {
            "reference": self.familiar,
            "registry": self.domain,
            "repository": self.path,
            "tag": self.tag,
            "digest": self.digest,
        }


def _split_domain(name: str) -> tuple[str, str]:
    """``name`` as (registry, repository path), docker's defaults filled in."""
    first, sep, rest = name.partition("/")
    # docker: the first component is a registry when it has a dot or a port, is
    # "localhost", or has an upper-case letter (a repository never does).
    if sep and (any(c in first for c in ".:") or first == "localhost" or first != first.lower()):
        if not _DOMAIN.match(first):
            raise ValueError(f"{first!r} is not a registry host")
        domain, path = ("docker.io" if first == "index.docker.io" else first), rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = f"{OFFICIAL_NAMESPACE}/{path}"
    return domain, path


def parse_reference(text: str) -> ImageRef:
    """``text`` as docker normalises it; ValueError saying what is wrong when it is not one."""
    if text == SCRATCH:
        return ImageRef("", SCRATCH, None, None)
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not an image reference")
    remainder, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        raise ValueError(f"{digest!r} is not a digest (algorithm:hex, e.g. sha256:<64 hex>)")
    if digest.startswith("sha256:") and len(digest) != len("sha256:") + 64:
        raise ValueError(f"{digest!r}: a sha256 digest has 64 hex digits")
    tag = None
    colon, slash = remainder.rfind(":"), remainder.rfind("/")
    if colon > slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.match(tag):
            raise ValueError(f"{tag!r} is not a valid tag")
    domain, path = _split_domain(remainder)
    if not _PATH.match(path):
        why = "must be lower case" if path != path.lower() else "is not a valid repository name"
        raise ValueError(f"repository {path!r} {why}")
    return ImageRef(domain, path, tag or None, digest or None)


# -- variable expansion ------------------------------------------------------------------


class Unresolvable(Exception):
    """A word needs a variable that has no value; ``str()`` says which and why."""


_NAME_CHAR = re.compile(r"[A-Za-z0-9_]")


class _Expander:
    """One pass over a word: quotes, escapes and ``$`` expansions (BuildKit's forms).

    ``env`` maps a name to its value, or to None for a declared name without a value;
    ``why_unset(name)`` is the reason given when a plain reference meets such a name.
    ``dollar_escape``: compose's ``$$`` for a literal ``$`` (and no backslash escapes).
    """

    def __init__(
        self,
        env: Mapping[str, str | None],
        why_unset: Callable[[str], str],
        *,
        escape: str | None = "\\",
        quotes: bool = True,
        dollar_escape: bool = False,
    ) -> None:
        self.env = env
        self.why_unset = why_unset
        self.escape = escape
        self.quotes = quotes
        self.dollar_escape = dollar_escape

    def expand(self, text: str) -> str:
        out, i = [], 0
        quote: str | None = None
        while i < len(text):
            c = text[i]
            if quote == "'":  # single quotes: literal up to the closing one
                if c == "'":
                    quote = None
                else:
                    out.append(c)
                i += 1
            elif self.escape and c == self.escape and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
            elif self.quotes and c in "'\"" and (quote is None or quote == c):
                quote = None if quote else c
                i += 1
            elif c == "$":
                value, i = self._dollar(text, i)
                out.append(value)
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def _value(self, name: str) -> str | None:
        return self.env.get(name)

    def _dollar(self, text: str, i: int) -> tuple[str, int]:
        """The expansion starting at ``text[i] == "$"``, and the index after it."""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if self.dollar_escape and nxt == "$":
            return "$", i + 2
        if nxt == "{":
            end = _closing_brace(text, i + 2)
            return self._braced(text[i + 2 : end]), end + 1
        j = i + 1
        while j < len(text) and _NAME_CHAR.match(text[j]):
            j += 1
        if j == i + 1:
            return "$", i + 1
        return self._plain(text[i + 1 : j]), j

    def _plain(self, name: str) -> str:
        value = self._value(name)
        if value is None:
            raise Unresolvable(self.why_unset(name))
        return value

    def _braced(self, inner: str) -> str:
        found = re.match(r"^([A-Za-z0-9_]+)(?:(:?[-+?])(.*))?$", inner, re.DOTALL)
        if not found:
            raise Unresolvable(f"${{{inner}}} is an expansion harness does not know")
        name, op, word = found[1], found[2], found[3] or ""
        value = self._value(name)
        if op is None:
            return self._plain(name)
        is_set = value is not None and (op[0] != ":" or value != "")
        if op.endswith("-"):
            return value if is_set and value is not None else self.expand(word)
        if op.endswith("+"):
            return self.expand(word) if is_set else ""
        if not is_set:  # ${VAR:?message} / ${VAR?message}
            raise Unresolvable(f"{name} is not set: {self.expand(word) or 'required'}")
        return value or ""


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise Unresolvable(f"'${{' without its closing '}}' in {text!r}")


# -- base uses ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseUse:
    """One place that names a base image: a Dockerfile stage or a compose service.

    ``key`` matches the same place across two versions of the file (a named stage by its
    name, an unnamed one by its order among the unnamed, a service by its name).
    ``image`` is None when the reference could not be resolved; ``problem`` says why.
    """

    file: str
    line: int
    key: str
    where: str
    written: str
    image: ImageRef | None
    platform: str | None = None
    problem: str | None = None

    @property
    def located(self) -> str:
        """``Dockerfile:3 FROM ${BASE}`` / ``compose.yaml:4 image: ${IMG}``."""
        what = "image:" if self.key.startswith("service ") else "FROM"
        return f"{self.file}:{self.line} {what} {self.written}"

    def to_dict(self) -> BaseUseJSON:
        return {
            "file": self.file,
            "line": self.line,
            "where": self.where,
            "written": self.written,
            "image": None if self.image is None else self.image.to_dict(),
            "platform": self.platform,
            "problem": self.problem,
        }


_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"^[0-9]*<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True)
class Instruction:
    """One logical Dockerfile instruction: its keyword, its arguments, its first line."""

    line: int
    keyword: str
    args: str


def instructions(text: str) -> tuple[Instruction, ...]:
    """The Dockerfile's instructions, as BuildKit's parser sees them (see the module doc)."""
    lines = text.removeprefix("\ufeff").splitlines()
    escape, i = _directives(lines)
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    result: list[Instruction] = []
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start, parts = i + 1, []
        current = lines[i].lstrip()
        i += 1
        # Step 1: join continued lines; comment and blank lines inside are dropped.
        while continuation.search(current):
            parts.append(continuation.sub("", current))
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1
            current = lines[i] if i < len(lines) else ""
            i += 1
        parts.append(current)
        keyword, _, args = "".join(parts).strip().partition(" ")
        keyword = keyword.upper()
        # Step 2: a heredoc's body follows the instruction: skip it, up to its terminator.
        if keyword in _HEREDOC_INSTRUCTIONS:
            i = _after_heredocs(args, escape, lines, i)
        result.append(Instruction(start, keyword, args.strip()))
    return tuple(result)


def _directives(lines: Sequence[str]) -> tuple[str, int]:
    """The escape character, and the index of the first line after the parser directives
    (only at the very top, before any comment, blank line or instruction; each once)."""
    escape, seen, i = "\\", set(), 0
    while i < len(lines):
        found = _DIRECTIVE.match(lines[i])
        if not found or found[1].lower() in seen:
            break
        seen.add(found[1].lower())
        if found[1].lower() == "escape" and found[2] in ("\\", "`"):
            escape = found[2]
        i += 1
    return escape, i


def _after_heredocs(args: str, escape: str, lines: Sequence[str], i: int) -> int:
    """The index of the line after the bodies of the heredocs ``args`` opens (``<<EOF``,
    ``<<-EOF`` with leading tabs stripped, quoted terminators) starting at line ``i``."""
    for word in split_words(args, escape):
        heredoc = _HEREDOC.match(word)
        if not heredoc:
            continue
        strip_tabs, terminator = heredoc[1] == "-", heredoc[3]
        while i < len(lines):
            body = lines[i].lstrip("\t") if strip_tabs else lines[i]
            i += 1
            if body == terminator:
                break
    return i


def split_words(text: str, escape: str = "\\") -> list[str]:
    """``text`` split at whitespace outside quotes; quotes and escapes kept in each word."""
    words, current, quote, i = [], [], None, 0
    while i < len(text):
        c = text[i]
        if c == escape and quote != "'" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c.isspace():
            if current:
                words.append("".join(current))
                current = []
            i += 1
            continue
        current.append(c)
        i += 1
    if current:
        words.append("".join(current))
    return words


def stage_names(text: str) -> list[str]:
    """The named stages of a Dockerfile (``FROM … AS name``), in order, as written (a
    stage name is matched case-insensitively, as docker build --target does)."""
    escape = _directives(text.removeprefix("\ufeff").splitlines())[0]
    names = []
    for ins in instructions(text):
        if ins.keyword != "FROM":
            continue
        rest = [w for w in split_words(ins.args, escape) if not w.startswith("--")]
        if len(rest) >= 3 and rest[1].lower() == "as":
            names.append(rest[2])
    return names


def parse_dockerfile(
    text: str, file: str, build_args: Mapping[str, str] | None = None
) -> tuple[BaseUse, ...]:
    """The base uses of a Dockerfile: one per stage whose ``FROM`` names an image."""
    escape = _directives(text.removeprefix("\ufeff").splitlines())[0]
    reader = _StageReader(file, build_args or {}, escape)
    for ins in instructions(text):
        if ins.keyword == "ARG" and reader.index == 0:
            reader.global_arg(ins)
        elif ins.keyword == "FROM":
            reader.stage(ins)
    return tuple(reader.uses)


class _StageReader:
    """The state of one pass over a Dockerfile: global ARGs, stage names, uses so far."""

    def __init__(self, file: str, build_args: Mapping[str, str], escape: str) -> None:
        self.file, self.build_args, self.escape = file, build_args, escape
        self.env: dict[str, str | None] = {}
        self.stages: set[str] = set()
        self.uses: list[BaseUse] = []
        self.index = self.unnamed = 0
        self.expander = _Expander(self.env, self.why_unset, escape=escape)

    def why_unset(self, name: str) -> str:
        if name in self.env:
            return f"{name} has no default and no --build-arg"
        if name in PLATFORM_ARGS:
            return f"{name} is set by the builder for each platform; pass --build-arg {name}=…"
        return f"{name} is not declared by an ARG before the first FROM"

    def global_arg(self, ins: Instruction) -> None:
        """``ARG NAME[=default] …`` before the first FROM: a default may use the ARGs above
        it; a --build-arg wins."""
        for word in split_words(ins.args, self.escape):
            name, eq, default = word.partition("=")
            if name in self.build_args:
                self.env[name] = self.build_args[name]
            elif not eq:
                self.env.setdefault(name, None)
            else:
                try:
                    self.env[name] = self.expander.expand(default)
                except Unresolvable:
                    self.env[name] = None

    def stage(self, ins: Instruction) -> None:
        """``FROM [--platform=P] IMAGE [AS name]``: a use, unless IMAGE is an earlier stage."""
        words = split_words(ins.args, self.escape)
        flags = [w for w in words if w.startswith("--")]
        rest = [w for w in words if not w.startswith("--")]
        written = rest[0] if rest else ""
        alias = rest[2].lower() if len(rest) >= 3 and rest[1].lower() == "as" else None
        if alias:
            key = where = f"stage {alias}"
        else:
            key, where = f"stage #{self.unnamed}", f"stage {self.index}"
            self.unnamed += 1
        self.index += 1
        platform = next((f.partition("=")[2] for f in flags if f.startswith("--platform=")), None)
        with contextlib.suppress(Unresolvable):  # $BUILDPLATFORM and the like: as written
            platform = None if platform is None else self.expander.expand(platform)
        image, problem = None, None
        try:
            expanded = self.expander.expand(written)
            if not expanded:
                raise Unresolvable("names no image once expanded")
            if expanded.lower() in self.stages:
                self.stages.update([alias] if alias else [])
                return  # built on an earlier stage: no base image of its own
            image = parse_reference(expanded)
        except Unresolvable as err:
            problem = str(err)
        except ValueError as err:
            problem = f"not an image reference: {err}"
        self.stages.update([alias] if alias else [])
        self.uses.append(
            BaseUse(self.file, ins.line, key, where, written, image, platform, problem)
        )


def parse_compose(
    text: str, file: str, dotenv: Mapping[str, str] | None = None
) -> tuple[BaseUse, ...]:
    """The base uses of a compose file: each service with ``image:`` and no ``build:``.

    ``dotenv``: the values of the ``.env`` file next to it (``parse_dotenv``), which
    compose reads too. A file that is not YAML gives one use with a ``problem`` (it is data
    for the check, not a reason to stop it); one without ``services``, none.
    """
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return (BaseUse(file, line, "file", "file", "", None, problem=f"not YAML: {err}"),)
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return ()
    lines = _service_lines(root)

    def why_unset(name: str) -> str:
        return f"{name} has no default in the file nor in .env (the environment is not read)"

    env: dict[str, str | None] = dict(dotenv or {})
    expander = _Expander(env, why_unset, escape=None, quotes=False, dollar_escape=True)
    uses: list[BaseUse] = []
    for service, spec in services.items():
        if not isinstance(spec, dict) or "build" in spec or not isinstance(spec.get("image"), str):
            continue
        written = spec["image"]
        image, problem = None, None
        try:
            image = parse_reference(expander.expand(written))
        except Unresolvable as err:
            problem = str(err)
        except ValueError as err:
            problem = f"not an image reference: {err}"
        line = lines.get(str(service), 1)
        key = f"service {service}"
        platform = spec.get("platform") if isinstance(spec.get("platform"), str) else None
        uses.append(BaseUse(file, line, key, key, written, image, platform, problem))
    return tuple(uses)


def parse_dotenv(text: str) -> dict[str, str]:
    """A compose ``.env`` file: ``KEY=VALUE`` lines (``export`` allowed), ``#`` comments,
    values in single quotes literal, in double quotes or bare up to a `` #`` comment."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip().removeprefix("export ").strip()
        name, eq, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or line.startswith("#") or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value
    return values


def _service_lines(root: yaml.Node | None) -> dict[str, int]:
    """Per service, the line of its ``image:`` key (else of the service's name)."""
    found: dict[str, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return found
    for key, value in root.value:
        if key.value != "services" or not isinstance(value, yaml.MappingNode):
            continue
        for name, spec in value.value:
            found[str(name.value)] = name.start_mark.line + 1
            if isinstance(spec, yaml.MappingNode):
                for k, v in spec.value:
                    if k.value == "image":
                        found[str(name.value)] = v.start_mark.line + 1
    return found


# -- comparing two versions --------------------------------------------------------------


class ChangeKind(StrEnum):
    IMAGE = "image"  # another repository (or registry)
    TAG = "tag"  # same repository, another tag
    DIGEST = "digest"  # same tag, another digest (or one pinned / unpinned)
    PLATFORM = "platform"  # same reference, another --platform
    ADDED = "added"  # a stage or service that names a base image only at the head ref
    REMOVED = "removed"  # one that names a base image only at the base ref


@dataclass(frozen=True)
class BaseChange:
    """One base use that differs between the two refs."""

    kind: ChangeKind
    file: str
    where: str
    old: BaseUse | None
    new: BaseUse | None

    def to_dict(self) -> BaseChangeJSON:
        return {
            "kind": self.kind.value,
            "file": self.file,
            "where": self.where,
            "old": None if self.old is None else self.old.to_dict(),
            "new": None if self.new is None else self.new.to_dict(),
        }


@dataclass(frozen=True)
class Unresolved:
    """A base use whose reference could not be resolved, on one side or both."""

    use: BaseUse
    sides: tuple[str, ...]  # "base", "head"

    def to_dict(self) -> UnresolvedJSON:
        return {**self.use.to_dict(), "sides": list(self.sides)}


def compare_uses(
    old: Sequence[BaseUse], new: Sequence[BaseUse]
) -> tuple[tuple[BaseChange, ...], tuple[Unresolved, ...]]:
    """The changes from ``old`` to ``new`` (one file's uses), unchanged ones dropped, and the
    uses that could not be resolved (never guessed: no change is inferred from them)."""
    before = {u.key: u for u in old}
    after = {u.key: u for u in new}
    changes: list[BaseChange] = []
    unresolved: list[Unresolved] = []
    keys = list(after) + [k for k in before if k not in after]
    for key in keys:
        o, n = before.get(key), after.get(key)
        broken = [(side, u) for side, u in (("base", o), ("head", n)) if u and u.problem]
        if broken:
            same = len(broken) == 2 and o and n and (o.written, o.problem) == (n.written, n.problem)
            if same:
                unresolved.append(Unresolved(broken[1][1], ("base", "head")))
            else:
                unresolved.extend(Unresolved(u, (side,)) for side, u in broken)
            continue
        kind = _kind(o, n)
        if kind is not None:
            use = n or o
            assert use is not None
            changes.append(BaseChange(kind, use.file, use.where, o, n))
    return tuple(changes), tuple(unresolved)


def _kind(old: BaseUse | None, new: BaseUse | None) -> ChangeKind | None:
    if old is None or old.image is None:
        return ChangeKind.ADDED
    if new is None or new.image is None:
        return ChangeKind.REMOVED
    a, b = old.image, new.image
    if a.name != b.name:
        return ChangeKind.IMAGE
    if a.effective_tag != b.effective_tag:
        return ChangeKind.TAG
    if a.digest != b.digest:
        return ChangeKind.DIGEST
    if old.platform != new.platform:
        return ChangeKind.PLATFORM
    return None


@dataclass(frozen=True)
class GitSide:
    """One side of the comparison: the ref as given and the commit it named."""

    ref: str
    commit: str

    def to_dict(self) -> GitSideJSON:
        return {"ref": self.ref, "commit": self.commit}


CHANGES_FORMAT = "harness-base-changes/1"


@dataclass(frozen=True)
class BaseChanges:
    """Every changed base between two refs, and what could not be resolved."""

    base: GitSide
    head: GitSide
    files: tuple[str, ...]
    changes: tuple[BaseChange, ...]
    unresolved: tuple[Unresolved, ...]

    def to_dict(self) -> BaseChangesJSON:
        return {
            "format": CHANGES_FORMAT,
            "base": self.base.to_dict(),
            "head": self.head.to_dict(),
            "files": list(self.files),
            "changes": [c.to_dict() for c in self.changes],
            "unresolved": [u.to_dict() for u in self.unresolved],
        }


def parse_build_args(values: Iterable[str], environ: Mapping[str, str]) -> dict[str, str]:
    """``NAME=VALUE`` items as a dict; ``NAME`` alone takes the value from ``environ`` (as
    ``docker build`` does) and is left out when it is not there. ValueError on a bad name."""
    result: dict[str, str] = {}
    for item in values:
        name, eq, value = item.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(item)
        if eq:
            result[name] = value
        elif name in environ:
            result[name] = environ[name]
    return result
