"""What the admin's forms send, corrected before it reaches the database.

- A new row's created_at/updated_at are the server's time, whatever the client sent.
- Tenant staff write rows of their own tenant, whatever the form said (the policies
  would refuse another tenant anyway; this keeps the form usable).
- An edit form sends every field back, its date pickers cut to whole seconds: without a
  correction each save would truncate every timestamp of the row, rewrite created_at,
  and fill the audit log with changes nobody made.
- Ids are not edited (a changed id would also probe which ids other tenants use: the
  duplicate-key error answers for their rows), nor columns an app fixes (ADMIN_FIXED in
  its admin.py, e.g. a comment's author), nor a tenant table's tenant_id: a row never
  changes tenant (refresh/tenancy/routed.py turns one into a filter, which left an edit
  of tenant_id alone with nothing to set: piccolo-api's 500). Staff's is dropped (their
  tenant is pinned anyway), an operator's refused when it differs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import Column, Timestamp, Timestamptz
from piccolo.table import Table
from piccolo_api.crud.hooks import Hook, HookType
from starlette.exceptions import HTTPException
from starlette.requests import Request

from refresh.compat.piccolo_login import update_password_off_loop
from refresh.tenancy.declarations import TENANT_COLUMN
from refresh.tenancy.routed import TenantRouted

BOOKKEEPING = ("created_at", "updated_at")  # set on insert, and by a trigger on update
# times a form sends back cut to whole seconds (a login's last_login is a Timestamp)
TIMES = (Timestamptz, Timestamp)


def staff_tenant(request: Request) -> str:
    return str(request.state.admin_tenant_id)


async def stamp_new_row(row: Table) -> Table:
    """A new row is created now, whatever time the form (or a client) sent."""
    now = datetime.now(UTC)
    for name in BOOKKEEPING:
        if hasattr(row, name):
            setattr(row, name, now)
    return row


async def pin_tenant_on_save(row: Table, request: Request) -> Table:
    setattr(row, TENANT_COLUMN, staff_tenant(request))
    return row


async def pin_tenant_on_patch(
    row_id: Any, values: dict[Column, Any], request: Request
) -> dict[Column, Any]:
    # piccolo-api passes the values keyed by column
    return {
        column: staff_tenant(request) if column._meta.name == TENANT_COLUMN else value
        for column, value in values.items()
    }


def read_only(message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=message)


def keep_stored_values(
    table: type[Table], fixed: frozenset[str] = frozenset(), staff: bool = False
) -> Any:
    """The edit form sends the whole row back: what it cannot change is dropped when it
    equals the stored value and refused when it differs (the primary key, `fixed`
    columns such as a comment's author, a tenant table's tenant_id); created_at/updated_at
    are the server's, and so is the tenant of a staff edit."""
    key = table._meta.primary_key
    dropped = set(BOOKKEEPING)
    if issubclass(table, TenantRouted) and TENANT_COLUMN in {
        c._meta.name for c in table._meta.columns
    }:
        if staff:
            dropped.add(TENANT_COLUMN)
        else:
            fixed = fixed | {TENANT_COLUMN}

    async def hook(row_id: Any, values: dict[Column, Any]) -> dict[Column, Any]:
        compare = [c for c in values if isinstance(c, TIMES) or c._meta.name in fixed]
        stored: dict[str, Any] | None = None
        if compare:
            stored = await table.select(*compare).where(key == row_id).first()
        kept = {}
        for column, value in values.items():
            name = column._meta.name
            old = stored.get(column._meta.db_column_name) if stored else None
            if name == key._meta.name:
                if str(value) != str(row_id):
                    raise read_only(f"{name} cannot be changed")
                continue
            if name in dropped:
                continue
            if name in fixed:
                if stored is not None and str(value) != str(old):
                    raise read_only(f"{name} cannot be changed")
                continue
            if isinstance(column, TIMES) and isinstance(old, datetime):
                if value == old.replace(microsecond=0):
                    continue  # the form's copy of the stored time: not an edit
            kept[column] = value
        if not kept:
            raise read_only(
                "nothing to change: the id, the tenant, the fixed columns and "
                "created_at/updated_at cannot be set by an edit"
            )
        return kept

    return hook


def fixed_columns_given(fixed: frozenset[str]) -> Any:
    """A new row names what no edit can change later (a comment's author): created empty,
    it could never be set, and would pass for a row whose author was removed."""

    async def hook(row: Table) -> Table:
        missing = sorted(name for name in fixed if getattr(row, name, None) is None)
        if missing:
            raise read_only(f"{', '.join(missing)} must be given: an edit cannot set it later")
        return row

    return hook


def hooks_for(table: type[Table], staff: bool, fixed: frozenset[str] = frozenset()) -> list[Hook]:
    pin = staff and TENANT_COLUMN in {c._meta.name for c in table._meta.columns}
    # Grouped by type: piccolo-api keeps only the last run of consecutive hooks of a type.
    return [
        Hook(HookType.pre_save, stamp_new_row),
        *([Hook(HookType.pre_save, fixed_columns_given(fixed))] if fixed else []),
        *([Hook(HookType.pre_save, pin_tenant_on_save)] if pin else []),
        Hook(HookType.pre_patch, keep_stored_values(table, fixed, staff)),
        *([Hook(HookType.pre_patch, pin_tenant_on_patch)] if pin else []),
    ]


def password_off_loop(table: type[BaseUser]) -> Any:
    """An edit of a login that sets a password: validated, hashed in a worker thread and
    stored here; piccolo-api would hash it in the event loop (about 0.3 s that every
    request of the process waits for). The rest of the edit goes on as sent; an empty
    password changes nothing, as in piccolo-api."""

    async def hook(row_id: Any, values: dict[Column, Any]) -> dict[Column, Any]:
        password = next((v for c, v in values.items() if c._meta.name == "password"), None)
        rest = {c: v for c, v in values.items() if c._meta.name != "password"}
        if password:
            try:  # row_id is the Serial key's int (piccolo-api converts it): by id
                await update_password_off_loop(table, row_id, password)
            except ValueError as exc:  # Piccolo's own validation: too short, too long
                raise HTTPException(status_code=400, detail=str(exc)) from None
        # piccolo-api updates what is left, and an UPDATE that sets nothing is an error
        return rest or {table.username: table.username}

    return hook
