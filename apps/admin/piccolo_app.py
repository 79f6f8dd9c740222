from __future__ import annotations

from pathlib import Path

from piccolo.apps.user.tables import BaseUser
from piccolo.conf.apps import AppConfig
from piccolo_api.session_auth.tables import SessionsBase

from apps.admin.tables import AuditLog, StaffProfile

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name="admin",
    migrations_folder_path=ROOT / "migrations" / "admin",
    table_classes=[BaseUser, SessionsBase, StaffProfile, AuditLog],
    # the audit triggers go on the tables of these apps
    migration_dependencies=[
        "apps.tenants.piccolo_app",
        "apps.projects.piccolo_app",
        "apps.tasks.piccolo_app",
    ],
)
