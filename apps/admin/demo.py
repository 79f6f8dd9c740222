"""The demo's admin logins (`piccolo tenants demo`): an operator and one staff login per
demo tenant. Demo data for a developer's machine: never run it on a real server."""

from __future__ import annotations

import uuid

from apps.admin.staff import create_operator, create_staff
from apps.admin.tables import AdminUser
from refresh.db.clients import write_client

# (username, password, tenant slug or None for an operator)
DEMO_LOGINS = (
    ("operator", "operator-demo", None),
    ("acme-staff", "acme-demo", "acme"),
    ("globex-staff", "globex-demo", "globex"),
)


async def seed_demo(tenants: dict[str, uuid.UUID], base_url: str) -> list[str]:
    """Create the logins that are missing; return how to use them."""
    lines = [f"# the admin UI: {base_url}/admin/"]
    for username, password, slug in DEMO_LOGINS:
        if not await write_client.run(AdminUser.exists().where(AdminUser.username == username)):
            if slug is None:
                await create_operator(username, password)
            else:
                await create_staff(username, password, tenants[slug])
        who = f"staff of {slug}" if slug else "operator, every tenant"
        lines.append(f"#   {username} / {password}  ({who})")
    return lines


async def demo_logins_present() -> list[str]:
    """The demo logins that still open the admin with their published password (the
    production command refuses to serve while there is one)."""
    demo = {username: password for username, password, _ in DEMO_LOGINS}
    rows = await write_client.run(
        AdminUser.select(AdminUser.username, AdminUser.password).where(
            AdminUser.username.is_in(list(demo))
        )
    )
    present = []
    for row in rows:
        _, iterations, salt, _ = AdminUser.split_stored_password(row["password"])
        hashed = AdminUser.hash_password(demo[row["username"]], salt, int(iterations))
        if hashed == row["password"]:
            present.append(row["username"])
    return sorted(present)
