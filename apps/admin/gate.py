"""Who is asking at /admin/, and inside which transaction: the admin's resolver for the
one request path (refresh/web/middleware.py).

1. Read the admin session cookie and look the login up (sessions, piccolo_user,
   staff_profile) on the write client, before any transaction opens: the request roles
   have no grant on those tables.
2. Operators (active superusers) reach the operators' site inside one write-client
   transaction, which the read-client tables join too: they see every tenant, and
   `refresh.actor` names them in the audit log.
3. Tenant staff reach the staff site inside the same RLS request transaction as the API,
   with claims for their one tenant and tenant_role admin: every list, count, picker,
   export and detail page shows that tenant's rows only.
4. Operators viewing the admin as a tenant (apps/admin/view_as.py) reach the staff site
   as that tenant's staff would, in a READ ONLY request transaction; their writes are
   refused before any transaction opens.
5. The operators' own pages (apps/admin/pages.py: RLS status, view as tenant, import a
   tenant) answer operators only, in their transaction; anyone else reaches the staff
   site, which has no such page (404, as for any operator page). The import page's body
   may be ADMIN_IMPORT_MAX_BYTES, every other MAX_BODY_BYTES, read before the
   transaction opens.
6. Pages that need no login (the login form, assets) pass straight through. A login
   that is neither an operator nor a tenant's staff gets 403.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

# the type of the engines it is handed (the app's, from refresh.db); it builds none
from piccolo.engine.postgres import PostgresEngine  # noqa: TID251
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Scope

from apps.admin.tables import AdminSession, AdminUser, StaffProfile
from apps.admin.view_as import View, read_only_message, state_for, view_claims
from refresh.db.claims import Channel, TenantRole, build_claims
from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.db.transaction import RequestTransaction, SystemTransaction, timeout_setting
from refresh.tenancy.tables import tenant_root_table
from refresh.web.fairness import LimitedTransaction, TenantLimiter
from refresh.web.middleware import Refusal, Route, is_read_only

SESSION_COOKIE = "id"  # piccolo-api's session cookie
OPERATOR_PAGES = "/operator/"  # apps/admin/pages.py
IMPORT_PAGE = "/operator/import/"  # apps/admin/import_page.py: its body is a whole export


@dataclass(frozen=True)
class AdminLogin:
    username: str
    operator: bool
    tenant_id: uuid.UUID | None  # set for tenant staff
    view: View | None = None  # an operator's session viewing a tenant (apps/admin/view_as.py)


def login_sql() -> str:
    """The login and, in the same read, the tenant its session views (if any: an erased
    tenant ends the views of it) and the tenant of its staff profile (if any: a profile
    removed ends the staff's access on their next request)."""
    users = ident(AdminUser._meta.tablename)
    sessions = ident(AdminSession._meta.tablename)
    tenants = ident(tenant_root_table()._meta.tablename)
    profiles = ident(StaffProfile._meta.tablename)
    return (
        f"select u.username, u.superuser, t.id as viewing, t.slug as viewing_slug,"
        " s.viewing_writes, p.tenant_id as staff_tenant"
        f" from {users} u join {sessions} s on s.token = $2"
        f" left join {tenants} t on t.id = s.viewing"
        f" left join {profiles} p on p.user_id = u.id"
        " where u.id = $1 and u.active and u.admin"
    )


async def admin_login(token: str) -> AdminLogin | None:
    """The active admin login behind a session token, or None (no session, expired,
    inactive, or not an admin login). The session's expiry is piccolo-api's to judge
    (get_user_id); the rest, the staff profile included, is one read."""
    user_id = await AdminSession.get_user_id(token)
    if user_id is None:
        return None
    rows = await write_client.fetch(login_sql(), user_id, token)
    if not rows:
        return None
    user = rows[0]
    if user["superuser"]:
        view = (
            View(user["viewing"], user["viewing_slug"], user["viewing_writes"])
            if user["viewing"]
            else None
        )
        return AdminLogin(user["username"], operator=True, tenant_id=None, view=view)
    return AdminLogin(user["username"], operator=False, tenant_id=user["staff_tenant"])


def relative_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def needs_transaction(scope: Scope) -> bool:
    """The admin's JSON API reads tables; its HTML shell, assets and public login and
    logout endpoints do not."""
    return relative_path(scope).startswith("/api/")


def filters_text(scope: Scope) -> bool:
    """A list filtered on a text column: piccolo-admin's UI sends `<column>__match` with
    it (an ILIKE). Under RLS the planner guesses such a filter's matches from the term
    alone, so the request reads in index order (RequestTransaction.plan_for_values)."""
    return any(key.endswith("__match") for key in HTTPConnection(scope).query_params)


def is_operator_page(scope: Scope) -> bool:
    return relative_path(scope).startswith(OPERATOR_PAGES)


class AdminSessionResolver:
    def __init__(
        self,
        operators_site: ASGIApp,
        staff_site: ASGIApp,
        operator_pages: ASGIApp,
        write_engine: PostgresEngine,
        read_engine: PostgresEngine,
        role: str,
        statement_timeout_ms: int = 0,
        import_max_bytes: int | None = None,
        limiter: TenantLimiter | None = None,
    ) -> None:
        self.operators_site = operators_site
        self.staff_site = staff_site
        self.operator_pages = operator_pages
        self.write_engine = write_engine
        self.read_engine = read_engine
        self.role = role
        self.statement_timeout = timeout_setting(statement_timeout_ms)
        self.import_max_bytes = import_max_bytes
        self.limiter = limiter

    async def resolve(self, scope: Scope) -> Route:
        token = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        login = await admin_login(token) if token else None
        if login is not None and login.operator:
            return self.operator_route(scope, login)
        if login is None or not needs_transaction(scope):
            # Not logged in (the site answers 401 or shows its login page), or a page
            # that reads no table. The operators' pages are not among the staff site's.
            return Route(None, self.staff_site)
        if login.tenant_id is None:
            raise Refusal(
                403, "forbidden", "this login is neither an operator nor a tenant's staff"
            )
        claims = build_claims(
            {
                "sub": f"staff:{login.username}",
                "tenant_id": str(login.tenant_id),
                "tenant_role": TenantRole.admin.value,
            },
            Channel.admin,
        )
        transaction_: AbstractAsyncContextManager[Any] = RequestTransaction(
            self.read_engine,
            claims,
            self.role,
            is_read_only(scope),
            self.statement_timeout,
            in_index_order=filters_text(scope),
        )
        if self.limiter is not None and self.limiter.enabled:
            # the tenant's slots, shared with its API requests (refresh/web/fairness.py)
            tenant = str(login.tenant_id)
            transaction_ = LimitedTransaction(self.limiter, tenant, transaction_)
        return Route(transaction_, self.staff_site, state={"admin_tenant_id": login.tenant_id})

    def system_transaction(self, login: AdminLogin) -> SystemTransaction:
        return SystemTransaction(
            self.write_engine,
            f"operator:{login.username}",
            joins=(self.read_engine,),
            statement_timeout=self.statement_timeout,
        )

    def operator_route(self, scope: Scope, login: AdminLogin) -> Route:
        if is_operator_page(scope):
            system = self.system_transaction(login)
            if relative_path(scope) != IMPORT_PAGE or self.import_max_bytes is None:
                return Route(system, self.operator_pages, {"admin_login": login})
            # a whole export file: its own limit, and time for it at 1 MiB/s at least
            seconds = self.import_max_bytes / 1_048_576
            state = {"admin_login": login}
            return Route(system, self.operator_pages, state, self.import_max_bytes, seconds)
        view = login.view
        if view is None and needs_transaction(scope):
            return Route(self.system_transaction(login), self.operators_site)
        if view is None:
            return Route(None, self.operators_site)
        if not needs_transaction(scope):
            return Route(None, self.staff_site, state=state_for(view))  # the page, its banner
        if not is_read_only(scope) and not view.writes:
            raise Refusal(403, "read_only", read_only_message(view))
        return self.view_route(login, view, is_read_only(scope), filters_text(scope))

    def view_route(
        self, login: AdminLogin, view: View, read_only: bool, in_index_order: bool = False
    ) -> Route:
        """The staff site as the tenant's staff see it. A read-only view's transaction is
        READ ONLY whatever the method: the gate's refusal is the message, this the
        guarantee."""
        transaction = RequestTransaction(
            self.read_engine,
            view_claims(login.username, view),
            self.role,
            read_only=read_only or not view.writes,
            statement_timeout=self.statement_timeout,
            in_index_order=in_index_order,
        )
        return Route(transaction, self.staff_site, state=state_for(view))
