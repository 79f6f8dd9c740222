"""Check constraints derived from enums, so a set of choices is written once: the enum
drives the column's choices, its Check, the API's pydantic type and the CLI's choices."""

from __future__ import annotations

from enum import StrEnum

from piccolo.constraints import Check

from refresh.db.sql import ident, quote_literal


def choices_check(column: str, choices: type[StrEnum]) -> Check:
    """`column in ('a', 'b', ...)`, in the enum's order."""
    values = ", ".join(quote_literal(choice.value) for choice in choices)
    return Check(f"{ident(column)} in ({values})")
