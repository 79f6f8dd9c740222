"""The projects of the demo tenants (`piccolo tenants demo`)."""

from __future__ import annotations

import uuid

from apps.projects.tables import Project
from refresh.db.clients import write_client

DEMO_PROJECTS = {
    "acme": [("Website relaunch", "New marketing site"), ("Mobile app", "iOS and Android client")],
    "globex": [("Data warehouse", "Consolidate reporting"), ("Compliance audit", "SOC 2 evidence")],
}


async def seed_demo(tenants: dict[str, uuid.UUID], base_url: str) -> list[str]:
    """Each demo tenant's projects, unless it has some already."""
    for slug, projects in DEMO_PROJECTS.items():
        tenant_id = tenants[slug]
        if await write_client.run(Project.exists().where(Project.tenant_id == tenant_id)):
            continue
        for name, description in projects:
            await write_client.run(
                Project.insert(Project(tenant_id=tenant_id, name=name, description=description))
            )
    return []
