"""Piccolo's configuration: the engine for migrations and CLI commands, and the apps.

DB is the write client (the admin role): migrations and `piccolo ...` commands need it.
Tables themselves are bound to the read client (apps/rls/base.py). With no database URL
configured, importing this starts (or reuses) the embedded PostgreSQL in .data/postgres.
"""

from piccolo.conf.apps import AppRegistry

from apps.rls.clients import WRITE_DB

DB = WRITE_DB

APP_REGISTRY = AppRegistry(
    apps=[
        "apps.rls.piccolo_app",
        "apps.tenants.piccolo_app",
        "apps.projects.piccolo_app",
    ]
)
