"""The small language inside procedure files: `{{path}}` templates and branch conditions.

Templates substitute slots, saved action results and run-time variables. Conditions are
parsed once into `Condition` objects and evaluated against the same scope; nothing is
ever passed to `eval`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
PATH = rf"{NAME}(?:\.[A-Za-z0-9_]+)*"
TEMPLATE = re.compile(r"\{\{\s*(" + PATH + r")\s*\}\}")


def template_roots(text: str) -> set[str]:
    """The first names of every `{{path}}` in a template."""
    return {match.group(1).split(".")[0] for match in TEMPLATE.finditer(text)}


def lookup(path: str, scope: Mapping[str, Any]) -> tuple[bool, Any]:
    """Follow a dotted path through nested mappings; (found, value)."""
    current: Any = scope
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)


def render(
    text: str, scope: Mapping[str, Any], quote: Callable[[str, str], str] | None = None
) -> str:
    """Substitute `{{path}}`; `quote(name, value)` may escape values (used for URLs)."""

    def one(match: re.Match[str]) -> str:
        found, value = lookup(match.group(1), scope)
        shown = as_text(value) if found else ""
        return quote(match.group(1), shown) if quote is not None else shown

    return TEMPLATE.sub(one, text)


def render_value(value: Any, scope: Mapping[str, Any]) -> Any:
    """Render a JSON-like body; a string that is exactly one `{{path}}` keeps the value's type."""
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value.strip())
        if whole is not None:
            return lookup(whole.group(1), scope)[1]
        return render(value, scope)
    if isinstance(value, Mapping):
        return {str(key): render_value(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, scope) for item in value]
    return value


def value_roots(value: Any) -> set[str]:
    if isinstance(value, str):
        return template_roots(value)
    if isinstance(value, Mapping):
        return set().union(*(value_roots(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(value_roots(item) for item in value))
    return set()


# -- conditions: a tiny language, parsed once, never eval'd -----------------------------

_TOKEN = re.compile(
    r"\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<op>==|!=|>=|<=|>|<)|(?P<punct>[\[\],])"
    r"|(?P<word>[^\s\[\],=!<>\"']+))"
)
_OPS = ("==", "!=", ">=", "<=", ">", "<")


@dataclass(frozen=True)
class Clause:
    op: str  # one of _OPS, "in", "exists", "missing"
    path: str
    values: tuple[Any, ...] = ()

    def holds(self, scope: Mapping[str, Any]) -> bool:
        found, actual = lookup(self.path, scope)
        if self.op == "exists":
            return found and actual is not None
        if self.op == "missing":
            return not found or actual is None
        if not found:
            return False
        if self.op == "in":
            return any(_equal(actual, value) for value in self.values)
        if self.op == "==":
            return _equal(actual, self.values[0])
        if self.op == "!=":
            return not _equal(actual, self.values[0])
        left, right = _number(actual), _number(self.values[0])
        if left is None or right is None:
            return False
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[
            self.op
        ]


@dataclass(frozen=True)
class Condition:
    """`a.b == x`, `!=`, `>`, `>=`, `<`, `<=`, `a in [x, y]`, `exists a`, `not exists a`,
    joined by `and`. Missing paths make comparisons false."""

    text: str
    clauses: tuple[Clause, ...]

    def holds(self, scope: Mapping[str, Any]) -> bool:
        return all(clause.holds(scope) for clause in self.clauses)

    def roots(self) -> set[str]:
        return {clause.path.split(".")[0] for clause in self.clauses}


def _literal(kind: str, text: str) -> Any:
    if kind != "word":
        return text
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or expected is None:
        return actual is expected or (isinstance(actual, bool) and actual == expected)
    if isinstance(expected, float):
        return _number(actual) == expected
    return (
        isinstance(actual, str | int | float)
        and as_text(actual).casefold() == str(expected).casefold().strip()
    )


def parse_condition(text: str) -> Condition:
    """Parse a branch condition; raises ValueError naming what is wrong."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read condition '{text}' at '{text[position:]}'")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    clauses: list[Clause] = []
    index = 0

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise ValueError(f"condition '{text}' ends too early")
        index += 1
        return tokens[index - 1]

    def path() -> str:
        kind, value = take()
        if kind != "word" or not re.fullmatch(PATH, value):
            raise ValueError(f"condition '{text}': expected a slot or result path, got '{value}'")
        return value

    while True:
        kind, word = take()
        if kind == "word" and word.lower() == "not":
            if take()[1].lower() != "exists":
                raise ValueError(f"condition '{text}': 'not' must be followed by 'exists'")
            clauses.append(Clause("missing", path()))
        elif kind == "word" and word.lower() == "exists":
            clauses.append(Clause("exists", path()))
        else:
            index -= 1
            left = path()
            op_kind, op = take()
            if op_kind == "op" and op in _OPS:
                clauses.append(Clause(op, left, (_literal(*take()),)))
            elif op_kind == "word" and op.lower() == "in":
                if take() != ("punct", "["):
                    raise ValueError(f"condition '{text}': 'in' needs a list like [a, b]")
                values: list[Any] = []
                while True:
                    values.append(_literal(*take()))
                    separator = take()
                    if separator == ("punct", "]"):
                        break
                    if separator != ("punct", ","):
                        raise ValueError(f"condition '{text}': separate list items with ','")
                clauses.append(Clause("in", left, tuple(values)))
            else:
                raise ValueError(
                    f"condition '{text}': unknown operator '{op}'; use ==, !=, >, >=, <, <=, "
                    "in [..], exists or not exists"
                )
        if index == len(tokens):
            return Condition(text, tuple(clauses))
        if take()[1].lower() != "and":
            raise ValueError(f"condition '{text}': join comparisons with 'and'")
