"""The placement app: its migrations put every declared table where it lives on Citus,
after every other app's migrations (refresh/schema/placement.py). It has no tables and
no commands; `placed_last` in piccolo_conf.py gives it its migration dependencies."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from refresh.schema.placement import APP_NAME

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=ROOT / "migrations" / "placement",
    table_classes=[],
    migration_dependencies=[],  # every other registered app: placed_last
    commands=[],
)
