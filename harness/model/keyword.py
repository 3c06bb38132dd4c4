"""``-k EXPR`` over cell ids: the grammar pytest's ``-k`` accepts, evaluated here.

A cell is selected when the expression is true with each word read as "this word is a
case-insensitive substring of the cell id or of the matrix file's name", as pytest
matches an item's name. The plan and a shard run select cells from the matrix with it,
so which cells a shard owns never depends on pytest's private modules.

    expr   := or_expr
    or     := and ("or" and)*
    and    := not ("and" not)*
    not    := "not" not | "(" expr ")" | word
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from harness.model.errors import ConfigurationError

# The characters pytest allows in a -k word (letters, digits, _ : + - . [ ] \ /).
_TOKEN = re.compile(r"\s*(\(|\)|[\w:+\-.\[\]\\/]+)")
_KEYWORDS = frozenset({"and", "or", "not"})
Matcher = Callable[[str], bool]


@dataclass(frozen=True)
class KeywordExpression:
    text: str
    tokens: tuple[str, ...]

    @classmethod
    def compile(cls, text: str) -> KeywordExpression:
        tokens = _tokenize(text)
        expression = cls(text, tuple(tokens))
        expression.evaluate(lambda _word: True)  # a syntax error shows now, not per cell
        return expression

    def evaluate(self, matches: Matcher) -> bool:
        if not self.tokens:
            return True
        parser = _Parser(self.text, list(self.tokens), matches)
        value = parser.or_expr()
        if parser.position != len(self.tokens):
            parser.fail(f"unexpected {self.tokens[parser.position]!r}")
        return value

    def matches_text(self, text: str) -> bool:
        lowered = text.lower()
        return self.evaluate(lambda word: word.lower() in lowered)


def _tokenize(text: str) -> list[str]:
    tokens, position = [], 0
    stripped = text.rstrip()
    while position < len(stripped):
        found = _TOKEN.match(stripped, position)
        if found is None:
            raise _syntax_error(text, f"unexpected character {stripped[position:].lstrip()[:1]!r}")
        tokens.append(found.group(1))
        position = found.end()
    return tokens


def _syntax_error(text: str, what: str) -> ConfigurationError:
    return ConfigurationError(
        what,
        "write words joined by and / or / not, with parentheses, e.g. -k 'py311 and not spacy'",
        key=f"-k {text!r}",
    )


class _Parser:
    def __init__(self, text: str, tokens: list[str], matches: Matcher) -> None:
        self.text, self.tokens, self.matches = text, tokens, matches
        self.position = 0

    def fail(self, what: str) -> None:
        raise _syntax_error(self.text, what)

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            self.fail("the expression ends too early")
        self.position += 1
        return str(token)

    def or_expr(self) -> bool:
        value = self.and_expr()
        while self.peek() == "or":
            self.take()
            value = self.and_expr() or value  # evaluate both sides: syntax is checked fully
        return value

    def and_expr(self) -> bool:
        value = self.not_expr()
        while self.peek() == "and":
            self.take()
            value = self.not_expr() and value
        return value

    def not_expr(self) -> bool:
        token = self.take()
        if token == "not":
            return not self.not_expr()
        if token == "(":
            value = self.or_expr()
            if self.take() != ")":
                self.fail("a parenthesis is not closed")
            return value
        if token in _KEYWORDS or token == ")":
            self.fail(f"unexpected {token!r}")
        return self.matches(token)
