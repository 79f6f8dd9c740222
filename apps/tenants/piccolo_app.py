from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig, Command

from apps.admin.staff import staff_create
from apps.tenants.commands import create, demo
from apps.tenants.tables import Member, Tenant

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=ROOT / "migrations" / "tenants",
    table_classes=[Tenant, Member],
    migration_dependencies=["apps.rls.piccolo_app"],
    commands=[
        Command(create),
        Command(demo),
        Command(staff_create, command_name="staff-create", aliases=["staff_create"]),
    ],
)
