"""The two piccolo-admin sites behind /admin/: one for operators, one for tenant staff.

Both list the same tenant tables; operators also manage logins and staff profiles. Which
one a request reaches, and inside which transaction, is decided by apps/admin/gate.py.
"""

from __future__ import annotations

from typing import Any

import piccolo_admin.endpoints
import piccolo_api.crud.endpoints
from piccolo.apps.user.tables import BaseUser
from piccolo.columns import Column
from piccolo.utils.pydantic import create_pydantic_model
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.crud.endpoints import OrderBy, PiccoloCRUD
from piccolo_api.crud.validators import Validators
from piccolo_api.session_auth.tables import SessionsBase
from pydantic import ConfigDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from apps.admin.hooks import hooks_for
from apps.admin.tables import AuditLog, StaffProfile
from apps.projects.tables import Project
from apps.tasks.tables import Comment, Task
from apps.tenants.tables import Member, Tenant

PAGE_SIZE = 25


# Foreign keys with a db_column_name (tenant_id, project_id, ...): Piccolo's pydantic
# models alias such a field by its column name, while rows come back keyed by the field
# name, so every list page failed validation. The models accept either name, and the UI
# gets its schema in field names, the names its rows use.
def _model_by_field_name(*args: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("pydantic_config", ConfigDict(populate_by_name=True))
    return create_pydantic_model(*args, **kwargs)


piccolo_api.crud.endpoints.create_pydantic_model = _model_by_field_name  # type: ignore[attr-defined]


class AdminCRUD(PiccoloCRUD):
    async def get_schema(self, request: Request) -> Response:
        return JSONResponse(self.pydantic_model.model_json_schema(by_alias=False))

    def _split_params(self, params: dict[str, Any]) -> Any:
        """A filter on a column with choices (status, role) matches the choice exactly,
        not as a substring: piccolo-api's default `ILIKE '%done%'` would also match a
        longer choice, and cannot use an index (bench/RESULTS.md, admin figures)."""
        split = super()._split_params(params)
        for name in split.fields:
            try:
                column = self.table._meta.get_column_by_name(name)
            except ValueError:
                continue  # not a column: piccolo-api answers 400 for it
            if column._meta.choices is not None and f"{name}__match" not in params:
                split.match_types[name] = "exact"
        return split


# piccolo-admin builds its PiccoloCRUD instances by this module-level name.
piccolo_admin.endpoints.PiccoloCRUD = AdminCRUD  # type: ignore[attr-defined]


async def refuse_change(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    raise HTTPException(status_code=405, detail="the audit log is read-only")


READ_ONLY = Validators(
    post_single=[refuse_change],
    put_single=[refuse_change],
    patch_single=[refuse_change],
    delete_single=[refuse_change],
    delete_all=[refuse_change],
)


async def refuse_put(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    raise HTTPException(status_code=405, detail="use PATCH: PUT would skip the form checks")


def edits_by_patch() -> Validators:
    """The admin's forms PATCH; a PUT would replace a row past the hooks (apps/admin/
    hooks.py). A new instance per table: piccolo-admin adds its superuser check to the
    login tables' validators in place."""
    return Validators(put_single=[refuse_put])


def tenant_table_configs(staff: bool) -> list[TableConfig]:
    """The tenant tables, in menu groups named after their Piccolo apps. Staff have one
    tenant: its column would say the same on every row, so they do not see it."""

    def shown(*columns: Column) -> list[Column]:
        return [c for c in columns if not (staff and c._meta.name in ("tenant", "tenant_id"))]

    task_columns = shown(
        Task.title,
        Task.status,
        Task.priority,
        Task.project,
        Task.assignee,
        Task.due_at,
        Task.tenant,
    )
    return [
        TableConfig(
            Tenant,
            visible_columns=[Tenant.slug, Tenant.name, Tenant.created_at],
            visible_filters=[Tenant.slug, Tenant.name],
            link_column=Tenant.slug,
            menu_group="Tenants",
            validators=edits_by_patch(),
            hooks=hooks_for(Tenant, staff),
            order_by=[OrderBy(Tenant.slug)],
        ),
        TableConfig(
            Member,
            visible_columns=shown(Member.display_name, Member.email, Member.role, Member.tenant),
            visible_filters=shown(Member.display_name, Member.email, Member.role, Member.tenant),
            link_column=Member.display_name,
            menu_group="Tenants",
            validators=edits_by_patch(),
            hooks=hooks_for(Member, staff),
        ),
        TableConfig(
            Project,
            visible_columns=shown(Project.name, Project.status, Project.tenant, Project.created_at),
            visible_filters=shown(Project.name, Project.status, Project.tenant),
            link_column=Project.name,
            menu_group="Projects",
            validators=edits_by_patch(),
            hooks=hooks_for(Project, staff),
        ),
        TableConfig(
            Task,
            visible_columns=task_columns,
            visible_filters=task_columns,
            link_column=Task.title,
            menu_group="Tasks",
            validators=edits_by_patch(),
            hooks=hooks_for(Task, staff),
        ),
        TableConfig(
            Comment,
            visible_columns=[Comment.body, Comment.task, Comment.author, Comment.created_at],
            visible_filters=shown(Comment.task, Comment.author, Comment.tenant),
            link_column=Comment.body,
            menu_group="Tasks",
            validators=edits_by_patch(),
            hooks=hooks_for(Comment, staff),
        ),
        TableConfig(
            AuditLog,
            visible_columns=shown(
                AuditLog.created_at,
                AuditLog.actor,
                AuditLog.via,
                AuditLog.action,
                AuditLog.table_name,
                AuditLog.row_id,
                AuditLog.changes,
                AuditLog.tenant_id,
            ),
            visible_filters=shown(
                AuditLog.actor,
                AuditLog.via,
                AuditLog.action,
                AuditLog.table_name,
                AuditLog.row_id,
                AuditLog.tenant_id,
                AuditLog.created_at,
            ),
            link_column=AuditLog.created_at,
            menu_group="Admin",
            order_by=[OrderBy(AuditLog.created_at, ascending=False)],
            validators=READ_ONLY,
        ),
    ]


def operator_table_configs() -> list[TableConfig]:
    return [
        *tenant_table_configs(staff=False),
        TableConfig(
            StaffProfile,
            visible_columns=[StaffProfile.user, StaffProfile.tenant, StaffProfile.created_at],
            visible_filters=[StaffProfile.user, StaffProfile.tenant],
            menu_group="Admin",
            validators=edits_by_patch(),
            hooks=hooks_for(StaffProfile, staff=False),
        ),
        TableConfig(
            BaseUser,
            visible_columns=[
                BaseUser.username,
                BaseUser.email,
                BaseUser.active,
                BaseUser.admin,
                BaseUser.superuser,
                BaseUser.last_login,
            ],
            link_column=BaseUser.username,
            menu_group="Admin",
            validators=edits_by_patch(),
        ),
    ]


def create_sites(production: bool) -> tuple[ASGIApp, ASGIApp]:
    """(operators' site, staff site)."""
    common: dict[str, Any] = {
        "auth_table": BaseUser,
        "session_table": SessionsBase,
        "page_size": PAGE_SIZE,
        "production": production,
        "auto_include_related": False,
    }
    operators = create_admin(operator_table_configs(), site_name="Refresh admin", **common)
    staff = create_admin(tenant_table_configs(staff=True), site_name="Refresh admin", **common)
    return operators, staff
