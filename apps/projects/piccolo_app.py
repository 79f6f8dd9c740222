from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from apps.projects.tables import Project

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name="projects",
    migrations_folder_path=ROOT / "migrations" / "projects",
    table_classes=[Project],
    migration_dependencies=["apps.tenants.piccolo_app"],
    commands=[],
)
