"""Operators view the admin as a tenant's staff see it (like Supabase Studio's
impersonation of a role), read-only unless they chose to make changes.

- The choice is kept on the server, with the operator's session (`sessions.viewing`):
  no cookie or query parameter can make or change a view, it ends with the session or
  when the tenant is erased (or replaced by an import: apps/admin/erasure.py), and
  the gate (apps/admin/gate.py) honours it for operators only, so a staff login with
  the same column set would still see its own tenant.
- While it lasts, the operator's admin requests reach the staff site in a request
  transaction with the tenant's staff claims (`sub: operator:<username>`, the tenant,
  `tenant_role: admin`), through RLS like any staff request. A read-only view (the
  default) is READ ONLY, and the gate refuses a write before any transaction opens,
  saying why; a view with changes (`sessions.viewing_writes`) writes as the tenant's
  staff would, each change audited with the operator as its actor.
- Starting and ending a view are recorded in the audit log as the operator's actions
  (`view`, `view_end`, the operator named in operator_action), in the operator's
  transaction.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import Scope

from apps.admin.tables import AdminSession
from refresh.db.claims import Channel, Claims, TenantRole, build_claims
from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.lifecycle.audit import Actor, record
from refresh.tenancy.tables import tenant_root_table

STATE_KEY = "admin_view"  # scope["state"] key of the View, for the banner
CSRF_COOKIE = "csrftoken"  # piccolo-admin's (piccolo-api's CSRF middleware)
STOP_PATH = "operator/view-as/stop/"  # relative to the admin's root


@dataclass(frozen=True)
class View:
    tenant_id: uuid.UUID
    slug: str
    writes: bool = False  # chosen when the view started; read-only otherwise


def view_claims(username: str, view: View) -> Claims:
    """The claims of the tenant's staff, with the operator as the subject: what the audit
    trigger would name if a write ever got through (`operator`, with their name)."""
    return build_claims(
        {
            "sub": f"operator:{username}",
            "tenant_id": str(view.tenant_id),
            "tenant_role": TenantRole.admin.value,
        },
        Channel.admin,
    )


def read_only_message(view: View) -> str:
    return (
        f"you are viewing the admin as tenant {view.slug}, read-only: nothing was changed. "
        "Stop viewing to make changes as an operator, or view it again with changes."
    )


async def start_view(token: str, username: str, tenant_id: uuid.UUID, writes: bool = False) -> bool:
    """In the operator's transaction: the session views the tenant (with changes, if
    chosen); the audit log says that this operator did, and how. False: no such tenant.

    The tenant's row stays locked (KEY SHARE) until the operator's transaction ends: an
    erase of the tenant waits for it, then ends this view (apps/admin/erasure.py), and a
    view started after an erase finds no tenant."""
    tenants = ident(tenant_root_table()._meta.tablename)
    locked = await write_client.fetch(
        f"select 1 from {tenants} where id = $1 for key share", tenant_id
    )
    if not locked:
        return False
    await AdminSession.update(
        {AdminSession.viewing: tenant_id, AdminSession.viewing_writes: writes}
    ).where(AdminSession.token == token)
    await record_view(username, tenant_id, "view", read_only=not writes)
    return True


async def stop_view(token: str, username: str) -> None:
    """In the operator's transaction: the session views no tenant any more; the audit log
    says when the view ended (a stop without a view records nothing)."""
    sessions = ident(AdminSession._meta.tablename)
    # the self-join reads the row as it was before the update: the tenant viewed until now
    ended = await write_client.fetch(
        f"update {sessions} s set viewing = null, viewing_writes = false from {sessions} before"
        " where s.token = $1 and before.id = s.id and before.viewing is not null"
        " returning before.viewing, not before.viewing_writes as read_only",
        token,
    )
    if ended:
        await record_view(username, ended[0]["viewing"], "view_end", ended[0]["read_only"])


async def record_view(username: str, tenant_id: uuid.UUID, action: str, read_only: bool) -> None:
    async with write_client.connection() as connection:  # the operator's transaction
        await record(
            connection,
            Actor.operator_named(f"operator:{username}"),
            tenant_id,
            action,
            {"read_only": read_only},
        )


def banner(scope: Scope) -> str | None:
    """The notice on every page of a view: which tenant, read-only, and the way out."""
    view: View | None = scope.get("state", {}).get(STATE_KEY)
    if view is None:
        return None
    csrf = HTTPConnection(scope).cookies.get(CSRF_COOKIE, "")
    mode = "with changes, recorded as yours" if view.writes else "read-only"
    marker = "" if view.writes else ' data-read-only="all"'  # hides the write buttons
    return (
        f'<div class="refresh-notice"{marker} role="status">'
        f"Viewing the admin as tenant <b>{html.escape(view.slug)}</b>, as its staff see "
        f"it ({mode}). "
        f'<form method="post" action="./{STOP_PATH}">'
        f'<input type="hidden" name="{CSRF_COOKIE}" value="{html.escape(csrf)}">'
        '<button type="submit">Stop viewing</button></form></div>'
    )


def state_for(view: View) -> dict[str, Any]:
    return {STATE_KEY: view, "admin_tenant_id": view.tenant_id}
