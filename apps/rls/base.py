"""Mixins shared by every table of the project."""

from __future__ import annotations

from typing import Any

from piccolo.columns import Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from apps.rls.clients import READ_DB


class ReadClientTable:
    """Binds a table to the read client, so handlers go through RLS by default.

    Piccolo tables default to piccolo_conf.DB, which is the write client (migrations
    need it). Mix this in first: `class Project(ReadClientTable, Timestamps, Table)`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if issubclass(cls, Table):  # not for mixins built on this one (TenantTable)
            kwargs.setdefault("db", READ_DB)
        super().__init_subclass__(**kwargs)


class Timestamps:
    """created_at/updated_at; a database trigger keeps updated_at current on every write."""

    created_at = Timestamptz(default=TimestamptzNow(), null=False)
    updated_at = Timestamptz(default=TimestamptzNow(), null=False)
