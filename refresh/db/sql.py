"""SQL text helpers: identifiers and literals quoted the way PostgreSQL reads them."""

from __future__ import annotations

import re

import sqlparse


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# PostgreSQL's reserved and type-function keywords (pg_get_keywords(), catcode R and T):
# a table named like one of these must be quoted.
RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast
    check collate collation column concurrently constraint create cross current_catalog
    current_date current_role current_schema current_time current_timestamp current_user
    default deferrable desc distinct do else end except false fetch for foreign freeze from
    full grant group having ilike in initially inner intersect into is isnull join lateral
    leading left like limit localtime localtimestamp natural not notnull null offset on only
    or order outer overlaps placing primary references returning right select session_user
    similar some symmetric table tablesample then to trailing true union unique user using
    variadic verbose when where window with""".split()
)
PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


def ident(name: str) -> str:
    """An identifier as SQL: bare when it can be (reviewable), quoted when it must be."""
    return name if PLAIN.match(name) and name not in RESERVED else quote_ident(name)


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def string_literal(value: str) -> str:
    """`value` as a string constant PostgreSQL reads back unchanged whatever
    standard_conforming_strings says (the form of its own quote_literal()): E'...' with
    backslashes doubled when there is one. A text value cannot hold NUL: refused."""
    if "\x00" in value:
        raise ValueError("a NUL character cannot be sent in a string literal")
    quoted = value.replace("'", "''")
    if "\\" in value:
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def statements(script: str) -> list[str]:
    """A script's statements one by one, comment-only pieces dropped. Citus propagates DDL
    and SET by the whole query string of the message it came in, so a multi-statement
    message would run every statement on the workers; sqlparse knows dollar quoting."""
    pieces = (piece.strip() for piece in sqlparse.split(script))
    return [p for p in pieces if sqlparse.format(p, strip_comments=True).strip()]
