from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig, Command

from apps.tenants.commands import create, demo
from apps.tenants.lifecycle import erase, export, import_
from apps.tenants.tables import Member, Tenant
from refresh.compat.targ import accepts_spaced_options

ROOT = Path(__file__).resolve().parents[2]

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=ROOT / "migrations" / "tenants",
    table_classes=[Tenant, Member],
    migration_dependencies=["refresh.rls.piccolo_app"],
    commands=[
        Command(accepts_spaced_options(create)),
        Command(accepts_spaced_options(demo)),
        Command(accepts_spaced_options(export)),
        Command(accepts_spaced_options(import_), command_name="import"),
        Command(accepts_spaced_options(erase)),
    ],
)
