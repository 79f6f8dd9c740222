"""The tenancy/RLS machinery as a Piccolo app: roles, `auth` SQL functions, commands."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig, Command

from apps.rls.commands import bootstrap, check, doctor, new, sql, status, token

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name="rls",
    migrations_folder_path=ROOT / "migrations" / "rls",
    table_classes=[],
    migration_dependencies=[],
    commands=[
        Command(new),
        Command(sql),
        Command(check),
        Command(status),
        Command(doctor),
        Command(token),
        Command(bootstrap),
    ],
)
