from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig, Command

from apps.admin.staff import staff_create
from apps.admin.tables import AdminSession, AdminUser, StaffProfile
from refresh.compat.targ import accepts_spaced_options

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name="admin",
    migrations_folder_path=ROOT / "migrations" / "admin",
    table_classes=[AdminUser, AdminSession, StaffProfile],
    # the audit triggers go on the tables of these apps
    migration_dependencies=[
        "apps.tenants.piccolo_app",
        "apps.projects.piccolo_app",
        "apps.tasks.piccolo_app",
    ],
    commands=[
        Command(
            accepts_spaced_options(staff_create),
            command_name="staff-create",
            aliases=["staff_create"],
        ),
    ],
)
