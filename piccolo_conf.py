"""Piccolo's configuration: the engine for migrations and CLI commands, and the apps.

DB is the write client (the admin role): migrations and `piccolo ...` commands need it.
Tables themselves are bound to the read client (apps/rls/base.py). With no database URL
configured, importing this starts (or reuses) the embedded PostgreSQL in .data/postgres.
"""

import sys

from piccolo.conf.apps import AppRegistry

from apps.rls.cli_args import normalise_argv
from apps.rls.clients import WRITE_DB

DB = WRITE_DB

APP_REGISTRY = AppRegistry(
    apps=[
        "apps.rls.piccolo_app",
        "apps.tenants.piccolo_app",
        "apps.projects.piccolo_app",
        "apps.tasks.piccolo_app",
        "apps.admin.piccolo_app",
    ]
)

# Let this project's commands take `--option value` as well as `--option=value`.
sys.argv = normalise_argv(
    sys.argv,
    {
        (config.app_name, name): command.callable
        for config in APP_REGISTRY.app_configs.values()
        if config.app_name in ("rls", "tenants")
        for command in config.get_commands()
        for name in (command.command_name or command.callable.__name__, *command.aliases)
    },
)
