"""The projects app's pages in the admin (see apps/tenants/admin.py)."""

from __future__ import annotations

from piccolo_admin.endpoints import TableConfig

from apps.projects.tables import Project

ADMIN_PAGES = [
    TableConfig(
        Project,
        visible_columns=[Project.name, Project.status, Project.tenant_id, Project.created_at],
        visible_filters=[Project.name, Project.status, Project.tenant_id],
        link_column=Project.name,
        menu_group="Projects",
    ),
]
