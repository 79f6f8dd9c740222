from __future__ import annotations

from enum import StrEnum

from piccolo.columns import UUID, Text, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.readable import Readable
from piccolo.table import Table

from refresh.tenancy.checks import choices_check
from refresh.tenancy.tables import TenantTable


class ProjectStatus(StrEnum):
    active = "active"
    archived = "archived"


class Project(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    name = Varchar(length=200, null=False)
    description = Text(default="", null=False)
    status = Varchar(length=16, choices=ProjectStatus, default=ProjectStatus.active, null=False)

    project_status_check = choices_check("status", ProjectStatus)

    @classmethod
    def get_readable(cls) -> Readable:
        """How a row is named where another row points at it (the admin's pickers)."""
        return Readable(template="%s", columns=[cls.name])
