"""Piccolo's configuration: the engine for migrations and CLI commands, and the apps.

DB is the write client's engine (the admin role): migrations and `piccolo ...` commands
need it. Tables themselves are bound to the read client (refresh/tenancy/tables.py).
Importing this connects to nothing: the engines work out their URLs on first use, and
only then start the embedded PostgreSQL in .data/postgres when no URL is configured.
"""

from piccolo.conf.apps import AppRegistry

from refresh.db.engines import WRITE_DB
from refresh.schema.placement import placed_last

DB = WRITE_DB

# placed_last: the placement app (where each table lives on Citus) depends on every
# other app, so its migrations run after theirs (refresh/schema/placement.py).
APP_REGISTRY = placed_last(
    AppRegistry(
        apps=[
            "refresh.rls.piccolo_app",
            "apps.tenants.piccolo_app",
            "apps.projects.piccolo_app",
            "apps.tasks.piccolo_app",
            "apps.admin.piccolo_app",
            "refresh.schema.placement_app",
        ]
    )
)
