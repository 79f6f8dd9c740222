"""The admin writes the database refuses, as data: each a request built from the world of
tests/apps/admin/test_admin_db_errors.py (two tenants' staff, an operator) and the status
and code the API would answer with."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.apps.admin.support import PASSWORD, AdminSession, unique
from tests.conftest import TenantFixture


@dataclass
class Side:
    tenant: TenantFixture
    staff: AdminSession
    project: str
    task: str
    member_user: str


@dataclass
class World:
    a: Side
    b: Side
    operator: AdminSession
    staff_login_id: int  # a login that is some tenant's staff already


Request = Callable[[World, Side, Side], "tuple[str, str, Any]"]

# (name, request as (method, path, body) from (world, side, other side), status, code)
STAFF_CASES: list[tuple[str, Request, int, str]] = [
    (
        "unique: a member's user id taken in the tenant",
        lambda w, s, o: (
            "post",
            "/tables/member/",
            {"user_id": s.member_user, "email": "x@x.test", "display_name": "X", "role": "member"},
        ),
        409,
        "conflict",
    ),
    (
        "foreign key: a task under the other tenant's project",
        lambda w, s, o: ("post", "/tables/task/", new_task_body(o.project)),
        422,
        "not_found",
    ),
    (
        "foreign key: a task under an unused project id",
        lambda w, s, o: ("post", "/tables/task/", new_task_body(str(uuid.uuid4()))),
        422,
        "not_found",
    ),
    (
        "check: priority out of range",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"priority": 9}),
        422,
        "validation_error",
    ),
    (
        "check: an unknown status",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"status": "weird"}),
        422,
        "validation_error",
    ),
    (
        "check: a blank title",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"title": "   "}),
        422,
        "validation_error",
    ),
    (
        # asyncpg writes the last instant as infinity; task_due_at_finite refuses it
        "check: a due date stored as infinity",
        lambda w, s, o: (
            "patch",
            f"/tables/task/{s.task}/",
            {"due_at": "9999-12-31T23:59:59.999999+00:00"},
        ),
        422,
        "validation_error",
    ),
    (
        "not-null: a title set to null",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"title": None}),
        422,
        "validation_error",
    ),
    (
        "not-null: a task without its description",
        lambda w, s, o: ("post", "/tables/task/", {"title": "t", "project_id": s.project}),
        422,
        "validation_error",
    ),
    (
        "not-null: a project without a name",
        lambda w, s, o: ("post", "/tables/project/", {}),
        422,
        "validation_error",
    ),
    (
        "data: a NUL character",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"title": "a\x00b"}),
        422,
        "validation_error",
    ),
    (
        "data: a number beyond the column",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"priority": 99_999_999_999}),
        422,
        "validation_error",
    ),
    (
        "a row never changes tenant",
        lambda w, s, o: ("patch", f"/tables/project/{s.project}/", {"tenant_id": str(o.tenant.id)}),
        422,
        "validation_error",
    ),
    (
        "grant: staff cannot rename their tenant",
        lambda w, s, o: ("patch", f"/tables/tenant/{s.tenant.id}/", {"name": "renamed"}),
        403,
        "forbidden",
    ),
    (
        "grant: staff cannot delete their tenant",
        lambda w, s, o: ("delete", f"/tables/tenant/{s.tenant.id}/", None),
        403,
        "forbidden",
    ),
    (
        "grant: staff cannot add a tenant",
        lambda w, s, o: ("post", "/tables/tenant/", {"slug": unique("t"), "name": "T"}),
        403,
        "forbidden",
    ),
]

OPERATOR_CASES: list[tuple[str, Request, int, str]] = [
    (
        "unique: a tenant slug taken",
        lambda w, s, o: ("post", "/tables/tenant/", {"slug": s.tenant.slug, "name": "Again"}),
        409,
        "conflict",
    ),
    (
        "unique: a login that is staff already",
        lambda w, s, o: (
            "post",
            "/tables/staff_profile/",
            {"user_id": w.staff_login_id, "tenant_id": str(o.tenant.id)},
        ),
        409,
        "conflict",
    ),
    (
        "unique: a username taken, creating a login",
        lambda w, s, o: ("post", "/tables/piccolo_user/", new_login_body(s.staff.username)),
        409,
        "conflict",
    ),
    (
        "unique: a username taken, renaming a login",
        lambda w, s, o: (
            "patch",
            f"/tables/piccolo_user/{w.staff_login_id}/",
            {"username": o.staff.username},
        ),
        409,
        "conflict",
    ),
    (
        "not-null: a login without its flags",
        lambda w, s, o: (
            "post",
            "/tables/piccolo_user/",
            {"username": unique("u"), "password": PASSWORD, "email": "u@x.test"},
        ),
        422,
        "validation_error",
    ),
    (
        "foreign key: staff of an unknown login",
        lambda w, s, o: (
            "post",
            "/tables/staff_profile/",
            {"user_id": 2_000_000_000, "tenant_id": str(s.tenant.id)},
        ),
        422,
        "not_found",
    ),
    (
        "foreign key: a task of one tenant under the other's project",
        lambda w, s, o: (
            "post",
            "/tables/task/",
            {**new_task_body(o.project), "tenant_id": str(s.tenant.id)},
        ),
        422,
        "not_found",
    ),
    (
        "check: priority out of range",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"priority": 0}),
        422,
        "validation_error",
    ),
    (
        "a row never changes tenant",
        lambda w, s, o: ("patch", f"/tables/task/{s.task}/", {"tenant_id": str(o.tenant.id)}),
        422,
        "validation_error",
    ),
]


def new_task_body(project: str) -> dict[str, Any]:
    return {
        "title": "t",
        "description": "",
        "status": "todo",
        "tags": [],
        "project_id": project,
        "priority": 3,
    }


def new_login_body(username: str) -> dict[str, Any]:
    return {
        "username": username,
        "password": PASSWORD,
        "email": f"{username}@x.test",
        "active": True,
        "admin": True,
        "superuser": False,
    }
