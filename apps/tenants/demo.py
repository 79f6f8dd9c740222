"""The demo data of `make run`: two tenants that must never see each other."""

from __future__ import annotations

from apps.projects.tables import Project
from apps.rls.clients import write_client
from apps.rls.jwt_auth import issue_token
from apps.tenants.commands import create_tenant, ensure_member
from apps.tenants.lookup import find_tenant_id
from settings import get_settings

DEMO = {
    "acme": {
        "name": "Acme Corp",
        "members": [
            ("alice", "alice@acme.test", "Alice Admin", "admin"),
            ("bob", "bob@acme.test", "Bob Builder", "member"),
        ],
        "projects": [
            ("Website relaunch", "New marketing site"),
            ("Mobile app", "iOS and Android client"),
        ],
    },
    "globex": {
        "name": "Globex Inc",
        "members": [
            ("gina", "gina@globex.test", "Gina Globex", "admin"),
            ("hank", "hank@globex.test", "Hank Scorpio", "member"),
        ],
        "projects": [
            ("Data warehouse", "Consolidate reporting"),
            ("Compliance audit", "SOC 2 evidence"),
        ],
    },
}


async def seed_demo() -> list[tuple[str, str]]:
    """Create what is missing; return (slug, a day-long admin token) per tenant."""
    tokens = []
    async with write_client.transaction():
        for slug, spec in DEMO.items():
            tenant_id = await find_tenant_id(slug) or await create_tenant(slug, str(spec["name"]))
            for user_id, email, name, role in spec["members"]:
                await ensure_member(tenant_id, user_id, email, name, role)
            if not await write_client.run(Project.exists().where(Project.tenant == tenant_id)):
                for project_name, description in spec["projects"]:
                    await write_client.run(
                        Project.insert(
                            Project(tenant=tenant_id, name=project_name, description=description)
                        )
                    )
            first_user = spec["members"][0][0]
            tokens.append(
                (slug, issue_token(get_settings(), tenant_id, first_user, "admin", 24 * 3600))
            )
    return tokens
