"""What a declared policy condition says, read from its SQL tokens (sqlparse), not its text.

A substring test is fooled both ways: `tenant_id = auth.tenant_id() or true` contains the
isolation rule and isolates nothing, `auth.tenant_id() = tenant_id` isolates and does not
contain it, and a comment or a string literal can hold any text. So comments and
whitespace are dropped, and the condition is split into its top-level AND-ed conjuncts.
"""

from __future__ import annotations

import sqlparse
from sqlparse import tokens as T

#: The isolation rule, either way round, as `normalised` writes a conjunct.
_RULES = frozenset({"tenant_id=auth.tenant_id", "auth.tenant_id=tenant_id"})
#: Keywords that start a subquery (`(select ...)`, `(values ...)`, `(table t)`).
_SUBQUERY_KEYWORDS = frozenset({"select", "values", "table"})

Token = tuple[object, str]


def tokens(expression: str) -> list[Token]:
    """(type, lowercased value) of each token, without whitespace and comments."""
    return [
        (t.ttype, t.value.lower())
        for t in sqlparse.parse(expression)[0].flatten()
        if not t.is_whitespace and t.ttype not in T.Comment
    ]


def has_subquery(expression: str) -> bool:
    return any(
        kind in T.Keyword and value in _SUBQUERY_KEYWORDS for kind, value in tokens(expression)
    )


def _without_outer_parentheses(items: list[Token]) -> list[Token]:
    while items and items[0][1] == "(" and _closing(items, 0) == len(items) - 1:
        items = items[1:-1]
    return items


def _closing(items: list[Token], opening: int) -> int:
    depth = 0
    for index in range(opening, len(items)):
        value = items[index][1]
        depth += value == "("
        depth -= value == ")"
        if depth == 0:
            return index
    return -1


def conjuncts(expression: str) -> list[list[Token]] | None:
    """The top-level AND-ed parts of the condition; None if a top-level OR joins them
    (then no part of it holds on every row it admits)."""
    items = _without_outer_parentheses(tokens(expression))
    parts: list[list[Token]] = [[]]
    depth = 0
    for kind, value in items:
        depth += value == "("
        depth -= value == ")"
        if depth == 0 and kind in T.Keyword and value == "or":
            return None
        if depth == 0 and kind in T.Keyword and value == "and":
            parts.append([])
        else:
            parts[-1].append((kind, value))
    return parts


def normalised(part: list[Token]) -> str:
    """A conjunct as one string: no parentheses, quotes or casts to uuid."""
    out = []
    skip_type = False
    for _kind, value in part:
        if skip_type:
            skip_type = False
            continue
        if value == "::":
            skip_type = True
            continue
        if value not in ("(", ")"):
            out.append(value.strip('"'))
    return "".join(out)


def isolates_tenant(expression: str) -> bool:
    """Whether every row the condition admits has `tenant_id = auth.tenant_id()`."""
    parts = conjuncts(expression)
    return parts is not None and any(normalised(part) in _RULES for part in parts)
