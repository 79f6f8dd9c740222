from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from apps.tasks.tables import Comment, Task

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name="tasks",
    migrations_folder_path=ROOT / "migrations" / "tasks",
    table_classes=[Task, Comment],
    migration_dependencies=["apps.projects.piccolo_app"],
    commands=[],
)
