"""The gate in front of /admin/: who is asking, and inside which transaction.

1. Read the admin session cookie and look the login up (sessions, piccolo_user,
   staff_profile) on the write client, before any transaction opens: the request roles
   have no grant on those tables.
2. Operators (active superusers) reach the operators' site inside one write-client
   transaction, which the read-client tables join too: they see every tenant, and
   `refresh.actor` names them in the audit log.
3. Tenant staff reach the staff site inside the same RLS request transaction as the API,
   with claims for their one tenant and tenant_role admin: every list, count, picker,
   export and detail page shows that tenant's rows only.
4. Pages that need no login (the login form, assets) pass straight through. A login
   that is neither an operator nor a tenant's staff gets 403.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.engine.postgres import PostgresEngine
from piccolo_api.session_auth.tables import SessionsBase
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from apps.admin.operator import OperatorTransaction
from apps.admin.tables import StaffProfile
from apps.rls.middleware import (
    READ_ONLY_METHODS,
    UNAVAILABLE,
    pre_read_body,
    respond_in_transaction,
    send_json,
)
from apps.rls.transaction import RequestTransaction, timeout_setting
from apps.web.responses import error_body

log = logging.getLogger("refresh.admin")

SESSION_COOKIE = "id"  # piccolo-api's session cookie


@dataclass(frozen=True)
class AdminLogin:
    username: str
    operator: bool
    tenant_id: uuid.UUID | None  # set for tenant staff


async def admin_login(token: str) -> AdminLogin | None:
    """The active admin login behind a session token, or None (no session, expired,
    inactive, or not an admin login)."""
    user_id = await SessionsBase.get_user_id(token)
    if user_id is None:
        return None
    user = (
        await BaseUser.select(BaseUser.username, BaseUser.superuser)
        .where((BaseUser.id == user_id) & (BaseUser.active.eq(True)) & (BaseUser.admin.eq(True)))
        .first()
    )
    if user is None:
        return None
    if user["superuser"]:
        return AdminLogin(user["username"], operator=True, tenant_id=None)
    profile = (
        await StaffProfile.select(StaffProfile.tenant.as_alias("tenant"))
        .where(StaffProfile.user == user_id)
        .first()
    )
    tenant = profile["tenant"] if profile else None
    return AdminLogin(user["username"], operator=False, tenant_id=tenant)


class AdminGate:
    def __init__(
        self,
        operators_site: ASGIApp,
        staff_site: ASGIApp,
        write_engine: PostgresEngine,
        read_engine: PostgresEngine,
        role: str,
        statement_timeout_ms: int = 0,
    ) -> None:
        self.operators_site = operators_site
        self.staff_site = staff_site
        self.write_engine = write_engine
        self.read_engine = read_engine
        self.role = role
        self.statement_timeout = timeout_setting(statement_timeout_ms)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.staff_site(scope, receive, send)
            return
        token = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        try:
            login = await admin_login(token) if token else None
        except UNAVAILABLE:
            await send_json(send, 503, error_body("unavailable", "the database is unavailable"))
            return
        except Exception:
            log.exception("admin session lookup failed")
            await send_json(send, 500, error_body("internal_error", "internal server error"))
            return
        if login is None or not self.needs_transaction(scope):
            # Not logged in (the site answers 401 or shows its login page), or a page
            # that reads no table; the operators' site has the same public pages.
            site = self.operators_site if login and login.operator else self.staff_site
            await site(scope, receive, send)
            return
        if not login.operator and login.tenant_id is None:
            await send_json(
                send,
                403,
                error_body("forbidden", "this login is neither an operator nor a tenant's staff"),
            )
            return
        if scope["method"] not in READ_ONLY_METHODS:
            replayed = await pre_read_body(receive, send)
            if replayed is None:
                return
            receive = replayed
        if login.operator:
            transaction: Any = OperatorTransaction(
                self.write_engine,
                self.read_engine,
                f"operator:{login.username}",
                self.statement_timeout,
            )
            await respond_in_transaction(self.operators_site, scope, receive, send, transaction)
            return
        claims = {
            "sub": f"staff:{login.username}",
            "tenant_id": str(login.tenant_id),
            "tenant_role": "admin",
            "via": "admin",
        }
        scope.setdefault("state", {})["admin_tenant_id"] = login.tenant_id
        transaction = RequestTransaction(
            self.read_engine,
            json.dumps(claims, separators=(",", ":")),
            self.role,
            scope["method"] in READ_ONLY_METHODS,
            self.statement_timeout,
        )
        await respond_in_transaction(self.staff_site, scope, receive, send, transaction)

    @staticmethod
    def needs_transaction(scope: Scope) -> bool:
        """The admin's JSON API reads tables; its HTML shell, assets and public login
        and logout endpoints do not."""
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        relative = path[len(root) :] if root and path.startswith(root) else path
        return relative.startswith("/api/")
