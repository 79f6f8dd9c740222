"""The two piccolo-admin sites behind /admin/: one for operators, one for tenant staff.

Each app declares its own pages (`ADMIN_PAGES` in its `admin.py`, found through the app
registry; `ADMIN_OPERATOR_PAGES` for operators only); this module gives every page the
admin's hooks and validators and a newest-first order, refuses staff pages that RLS would
not isolate (apps/admin/staff_pages.py), hides the tenant column from staff (they have
one tenant; their forms do not ask for it, refresh/compat/piccolo_admin.py), and adds the
admin's own pages: the audit log for both, logins and staff profiles for operators.
Which site a request reaches, and inside which transaction, is decided by
apps/admin/gate.py. The operators' sidebar links to their own pages (apps/admin/pages.py:
RLS status, view as tenant).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple

from piccolo.columns import Column, Serial
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.crud.endpoints import OrderBy
from piccolo_api.crud.hooks import Hook, HookType
from piccolo_api.rate_limiting.middleware import RateLimitProvider
from starlette.types import ASGIApp, Scope

from apps.admin.audit import OPERATOR_LABELS, STAFF_LABELS, audit_page
from apps.admin.checks import admin_validators
from apps.admin.hooks import BOOKKEEPING, hooks_for, password_off_loop
from apps.admin.import_page import import_routes
from apps.admin.lifecycle import operator_forms
from apps.admin.pages import operator_pages_app
from apps.admin.staff_pages import check_staff_pages
from apps.admin.tables import AdminSession, AdminUser, StaffProfile
from apps.admin.view_as import banner
from refresh.compat.piccolo_admin import exact_choice_filters, form_adjustments
from refresh.compat.piccolo_admin_bodies import strict_bodies
from refresh.compat.piccolo_admin_labels import labelled_values
from refresh.compat.piccolo_admin_ui import with_ui_fixes
from refresh.registry import contributions
from refresh.rls.tables import AuditLog
from refresh.tenancy.declarations import TENANT_COLUMN

PAGE_SIZE = 25


def newest_first(table: type[Table]) -> list[OrderBy] | None:
    """Newest rows first, ties broken by id: a list that does not reshuffle on reload
    (piccolo-admin's default order is the primary key, a UUID: random); a table without
    created_at whose key counts up (the logins) by its key, highest first."""
    key = table._meta.primary_key
    created = next((c for c in table._meta.columns if c._meta.name == "created_at"), None)
    if created is None:
        return [OrderBy(key, ascending=False)] if isinstance(key, Serial) else None
    return [OrderBy(created, ascending=False), OrderBy(key, ascending=False)]


def for_site(page: TableConfig, staff: bool, fixed: frozenset[str]) -> TableConfig:
    """An app's page as a site shows it: the admin's hooks and validators, newest rows
    first unless the page orders itself, and for staff no tenant column (it would say
    the same on every row)."""

    def shown(columns: list[Column] | None) -> list[Column] | None:
        if columns is None or not staff:
            return columns
        return [c for c in columns if c._meta.db_column_name != TENANT_COLUMN]

    return dataclasses.replace(
        page,
        visible_columns=shown(page.visible_columns),
        visible_filters=shown(page.visible_filters),
        hooks=hooks_for(page.table_class, staff, fixed),
        # staff have no erase to be pointed to (their delete of the tenant meets RLS)
        validators=admin_validators(None if staff else page.table_class),
        order_by=page.order_by or newest_first(page.table_class),
    )


def app_pages(staff: bool) -> list[TableConfig]:
    """Every registered app's ADMIN_PAGES, in registry order, with the columns its
    ADMIN_FIXED says an edit cannot change; for operators its ADMIN_OPERATOR_PAGES too.
    The staff site refuses to be built with a page its requests would not read through
    RLS (apps/admin/staff_pages.py), before any request is served."""
    pages = []
    listed_for_staff = []
    for _, module in contributions("admin"):
        fixed: list[Column] = getattr(module, "ADMIN_FIXED", [])
        listed: list[TableConfig] = list(getattr(module, "ADMIN_PAGES", []))
        if staff:
            listed_for_staff += [(module.__name__, page.table_class) for page in listed]
        else:
            listed += getattr(module, "ADMIN_OPERATOR_PAGES", [])
        for page in listed:
            names = frozenset(c._meta.name for c in fixed if c._meta.table is page.table_class)
            pages.append(for_site(page, staff, names))
    check_staff_pages(listed_for_staff)
    return pages


def operator_pages() -> list[TableConfig]:
    return [
        TableConfig(
            StaffProfile,
            visible_columns=[StaffProfile.user_id, StaffProfile.tenant_id, StaffProfile.created_at],
            visible_filters=[StaffProfile.user_id, StaffProfile.tenant_id],
            menu_group="Admin",
            validators=admin_validators(),
            hooks=hooks_for(StaffProfile, staff=False),
            order_by=newest_first(StaffProfile),
        ),
        TableConfig(
            AdminUser,
            visible_columns=[
                AdminUser.username,
                AdminUser.email,
                AdminUser.active,
                AdminUser.admin,
                AdminUser.superuser,
                AdminUser.last_login,
            ],
            link_column=AdminUser.username,
            menu_group="Admin",
            validators=admin_validators(),
            # after the others: piccolo-api keeps the last run of hooks of one type
            hooks=[
                *hooks_for(AdminUser, staff=False),
                Hook(HookType.pre_patch, password_off_loop(AdminUser)),
            ],
            order_by=newest_first(AdminUser),
        ),
    ]


class NoLimit(RateLimitProvider):
    """piccolo-admin's login limiter counts per peer address and blocks until a restart,
    so one client behind a shared proxy locks everyone out; apps/admin/login.py throttles
    instead, per (username, client) and with an expiry."""

    def increment(self, identifier: str) -> None:
        return None


class Sites(NamedTuple):
    operators: ASGIApp
    staff: ASGIApp
    pages: ASGIApp  # the operators' own pages (apps/admin/pages.py)


# The operators' own pages, in piccolo-admin's sidebar (relative to the admin's root).
SIDEBAR_LINKS = {
    "RLS status": "./operator/rls-status/",
    "View as tenant": "./operator/view-as/",
    "Import a tenant": "./operator/import/",
}


def create_sites(production: bool, allowed_hosts: Sequence[str] = ()) -> Sites:
    """`allowed_hosts`: the host names the admin is served under over HTTPS
    (piccolo-admin's CSRF check refuses writes from other origins)."""
    common: dict[str, Any] = {
        "rate_limit_provider": NoLimit(),
        "allowed_hosts": list(allowed_hosts),
        "auth_table": AdminUser,
        "session_table": AdminSession,
        "page_size": PAGE_SIZE,
        "production": production,
        "auto_include_related": False,
        "site_name": "Refresh admin",
    }
    operators = [*app_pages(staff=False), audit_page(staff=False), *operator_pages()]
    staff = [*app_pages(staff=True), audit_page(staff=True)]
    # Forms: bookkeeping times last; staff never see nor send a tenant (theirs is pinned).
    operators_admin = create_admin(
        operators, forms=operator_forms(), sidebar_links=SIDEBAR_LINKS, **common
    )
    operators_site = form_adjustments(operators_admin, None, no_pin, last=BOOKKEEPING)
    tenant_tables = frozenset(
        page.table_class._meta.tablename
        for page in staff
        if TENANT_COLUMN in {c._meta.name for c in page.table_class._meta.columns}
    )
    staff_site = form_adjustments(
        create_admin(staff, **common), TENANT_COLUMN, staff_tenant_of, BOOKKEEPING, tenant_tables
    )
    read_only = [AuditLog._meta.tablename]
    # Bodies are checked first: no library sees one that is not JSON, not Unicode, or
    # says true for a number.
    operators_site = labelled_values(
        exact_choice_filters(strict_bodies(operators_site, operators), operators),
        OPERATOR_LABELS,
    )
    staff_site = labelled_values(
        exact_choice_filters(strict_bodies(staff_site, staff), staff), STAFF_LABELS
    )
    return Sites(
        with_ui_fixes(operators_site, read_only, server_fields=BOOKKEEPING),
        # an operator viewing as a tenant gets the staff site, with the banner
        with_ui_fixes(staff_site, read_only, notice=banner, server_fields=BOOKKEEPING),
        operator_pages_app(allowed_hosts, import_routes()),
    )


def no_pin(scope: Scope) -> str | None:
    return None


def staff_tenant_of(scope: Scope) -> str | None:
    """The tenant the gate (apps/admin/gate.py) resolved for this staff request."""
    tenant = scope.get("state", {}).get("admin_tenant_id")
    return str(tenant) if tenant is not None else None
