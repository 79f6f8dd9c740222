"""`piccolo admin staff-create`: a tenant's staff login for the admin. Uses the write client."""

from __future__ import annotations

import getpass
import os
import sys

from apps.admin.tables import AdminUser, StaffProfile
from refresh.db.clients import write_client
from refresh.tenancy.lookup import find_tenant_id


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

    :param username: the login name
    :param tenant: the tenant's slug, e.g. acme
    :param password_env: read the password from this environment variable instead of a prompt
    :param email: the staff member's email (optional)
    """
    tenant_id = await find_tenant_id(tenant)
    if tenant_id is None:
        sys.exit(f"no tenant with slug {tenant!r} (see `piccolo tenants create`)")
    if await write_client.run(AdminUser.exists().where(AdminUser.username == username)):
        sys.exit(f"a user named {username!r} exists already")
    password = read_password(password_env)
    try:
        await create_staff(username, password, tenant_id, email)
    except ValueError as exc:  # Piccolo's own password rules (length, ...)
        sys.exit(str(exc))
    print(f"staff user {username} created for tenant {tenant}")


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
