"""`piccolo admin staff-create`: a tenant's staff login for the admin, new or attached again
after its tenant was erased and imported. Uses the write client."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from apps.admin.tables import AdminUser, StaffProfile
from refresh.db.clients import write_client
from refresh.db.sql import ident
from refresh.tenancy.lookup import find_tenant_id
from refresh.tenancy.tables import tenant_root_table


def read_password(password_env: str) -> str:
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            sys.exit(f"environment variable {password_env} is not set or empty")
        return password
    if not sys.stdin.isatty():
        sys.exit("no terminal to prompt for the password: use --password-env NAME")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        sys.exit("the passwords differ")
    return password


async def staff_create(username: str, tenant: str, password_env: str = "", email: str = "") -> None:
    """Create an admin login for one tenant's staff: it sees and changes that tenant's rows only.
    A login that is no tenant's staff any more (its tenant was erased, then imported again)
    is attached to the tenant again, its password kept unless --password-env gives one.

    :param username: the login name
    :param tenant: the tenant's slug, e.g. acme
    :param password_env: read the password from this environment variable instead of a prompt
    :param email: the staff member's email (optional; a new login's only)
    """
    tenant_id = await find_tenant_id(tenant)
    if tenant_id is None:
        sys.exit(f"no tenant with slug {tenant!r} (see `piccolo tenants create`)")
    existing = await write_client.fetch(login_sql(), username)
    if existing:
        await reattach(existing[0], username, tenant, tenant_id, password_env)
        return
    password = read_password(password_env)
    try:
        await create_staff(username, password, tenant_id, email)
    except ValueError as exc:  # Piccolo's own password rules (length, ...)
        sys.exit(str(exc))
    print(f"staff user {username} created for tenant {tenant}")


def login_sql() -> str:
    """An existing login, and the tenant its staff profile names (if it has one)."""
    return (
        "select u.id, u.superuser, u.admin, u.active, p.tenant_id, t.slug"
        f" from {ident(AdminUser._meta.tablename)} u"
        f" left join {ident(StaffProfile._meta.tablename)} p on p.user_id = u.id"
        f" left join {ident(tenant_root_table()._meta.tablename)} t on t.id = p.tenant_id"
        " where u.username = $1"
    )


async def reattach(
    login: Any, username: str, tenant: str, tenant_id: object, password_env: str
) -> None:
    """An erase removes the tenant's staff profiles but not the logins (they are not the
    tenant's data, and are never exported): after an import, this gives them back."""
    if login["superuser"]:
        sys.exit(f"a user named {username!r} exists already, as an operator (superuser)")
    if login["tenant_id"] is not None:
        sys.exit(
            f"a user named {username!r} exists already, as the staff of tenant"
            f" {login['slug']}: a login is the staff of one tenant only"
        )
    if not login["admin"]:
        sys.exit(
            f"a user named {username!r} exists already and is not an admin login"
            " (no staff login of a tenant): choose another name"
        )
    if not login["active"]:
        # Deactivated on purpose, perhaps: attaching it must not read as giving access back.
        sys.exit(
            f"a user named {username!r} exists already, deactivated: if it is to log in"
            f" again, run `piccolo user change_permissions {username} --active=True`, then"
            " this command again"
        )
    password = read_password(password_env) if password_env else ""
    async with write_client.transaction():
        if password:
            try:
                await AdminUser.update_password(login["id"], password)
            except ValueError as exc:
                sys.exit(str(exc))
        await write_client.run(
            StaffProfile.insert(StaffProfile(user_id=login["id"], tenant_id=tenant_id))
        )
    kept = f"its password from {password_env}" if password else "its password unchanged"
    print(f"staff user {username} attached to tenant {tenant} again, {kept}")


async def create_staff(username: str, password: str, tenant_id: object, email: str = "") -> None:
    async with write_client.transaction():
        user = await AdminUser.create_user(
            username=username,
            password=password,
            email=email or f"{username}@staff.invalid",
            admin=True,  # piccolo-admin lets only `admin` users log in
            superuser=False,  # superusers are operators: they see every tenant
            active=True,
        )
        await write_client.run(
            StaffProfile.insert(StaffProfile(user_id=user.id, tenant_id=tenant_id))
        )


async def create_operator(username: str, password: str, email: str = "") -> None:
    """A platform operator: an active admin superuser, who sees every tenant (what
    `piccolo user create` makes when answered admin and superuser)."""
    await AdminUser.create_user(
        username=username,
        password=password,
        email=email or f"{username}@example.com",
        admin=True,
        superuser=True,
        active=True,
    )
