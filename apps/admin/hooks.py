"""What the admin's forms send, corrected before it reaches the database.

- A new row's created_at/updated_at are the server's time, whatever the client sent.
- Tenant staff write rows of their own tenant, whatever the form said (the policies
  would refuse another tenant anyway; this keeps the form usable).
- An edit form sends every field back, its date pickers cut to whole seconds: without a
  correction each save would truncate every timestamp of the row, rewrite created_at,
  and fill the audit log with changes nobody made.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from piccolo.columns import Column, Timestamptz
from piccolo.table import Table
from piccolo_api.crud.hooks import Hook, HookType
from starlette.requests import Request

from refresh.tenancy.declarations import TENANT_COLUMN

BOOKKEEPING = ("created_at", "updated_at")  # set on insert, and by a trigger on update


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


def keep_stored_times(table: type[Table]) -> Any:
    async def hook(row_id: Any, values: dict[Column, Any]) -> dict[Column, Any]:
        times = [c for c in values if isinstance(c, Timestamptz)]
        if not times:
            return values
        stored = await table.select(*times).where(table._meta.primary_key == row_id).first()
        kept = {}
        for column, value in values.items():
            name = column._meta.name
            if name in BOOKKEEPING:
                continue
            if isinstance(column, Timestamptz) and stored is not None:
                old = stored.get(column._meta.db_column_name)
                if isinstance(old, datetime) and value == old.replace(microsecond=0):
                    continue  # the form's copy of the stored time: not an edit
            kept[column] = value
        return kept

    return hook


def hooks_for(table: type[Table], staff: bool) -> list[Hook]:
    pin = staff and TENANT_COLUMN in {c._meta.name for c in table._meta.columns}
    # Grouped by type: piccolo-api keeps only the last run of consecutive hooks of a type.
    return [
        Hook(HookType.pre_save, stamp_new_row),
        *([Hook(HookType.pre_save, pin_tenant_on_save)] if pin else []),
        Hook(HookType.pre_patch, keep_stored_times(table)),
        *([Hook(HookType.pre_patch, pin_tenant_on_patch)] if pin else []),
    ]
