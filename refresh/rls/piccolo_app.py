"""The tenancy/RLS machinery as a Piccolo app: roles, `auth` SQL functions, commands."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig, Command

from refresh.compat.targ import accepts_spaced_options
from refresh.rls import APP_NAME
from refresh.rls.commands import (
    bootstrap,
    check,
    distribute,
    doctor,
    new,
    sql,
    status,
    token,
)
from refresh.rls.tables import AuditLog, OperatorAction

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=ROOT / "migrations" / APP_NAME,
    table_classes=[AuditLog, OperatorAction],
    migration_dependencies=[],
    commands=[
        Command(accepts_spaced_options(command))
        for command in (new, sql, check, status, doctor, token, bootstrap, distribute)
    ],
)
