from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.constraints import Check

from refresh.schema.preflight import refuse_breaking_rows

ID = "2026-12-06T16:54:56:090595"
VERSION = "1.38.0"
DESCRIPTION = "tenant checks: no slug shaped like a tenant id, no nil id"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="tenants", description=DESCRIPTION
    )

    manager.add_constraint(
        table_class_name="Tenant",
        tablename="tenant",
        constraint_name="tenant_id_not_nil",
        constraint_class=Check,
        params={"condition": "id <> '00000000-0000-0000-0000-000000000000'"},
        schema=None,
    )

    manager.add_constraint(
        table_class_name="Tenant",
        tablename="tenant",
        constraint_name="tenant_slug_not_an_id",
        constraint_class=Check,
        params={"condition": "replace(slug, '-', '') !~ '^[0-9a-f]{32}$'"},
        schema=None,
    )

    # Rows that break a check are named before anything changes (a database upgraded
    # with such rows would otherwise fail with PostgreSQL's "violated by some row").
    refuse_breaking_rows(manager)

    return manager
