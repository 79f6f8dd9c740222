"""refresh/compat/piccolo_migration_imports.py: Piccolo still leaves a lazily referenced
key's default out of a migration's imports (the reason for the module), and the module
adds exactly what is missing."""

from __future__ import annotations

from pathlib import Path

from piccolo.apps.migrations.auto.serialisation import serialise_params

from apps.projects.tables import Project
from refresh.compat.piccolo_migration_imports import add_missing_key_imports

UUID4_IMPORT = "from piccolo.columns.defaults.uuid import UUID4"


def test_piccolo_leaves_the_lazy_keys_default_unimported() -> None:
    """tenant_id refers to the tenant table lazily (the platform cannot import the tenants
    app): the stand-in class Piccolo writes names UUID4, its imports do not."""
    tenant_id = Project._meta.get_column_by_name("tenant_id")
    serialised = serialise_params(tenant_id._meta.params)
    [stand_in] = [repr(d) for d in serialised.extra_definitions]
    assert stand_in.startswith("class Tenant(Table") and "default=UUID4()" in stand_in
    imports = [repr(i) for i in serialised.extra_imports]
    assert UUID4_IMPORT not in imports, "Piccolo imports it now: drop the adaptation"


def test_the_missing_import_is_added_once(tmp_path: Path) -> None:
    migration = tmp_path / "m.py"
    body = (
        "from piccolo.table import Table\n\n"
        "class Tenant(Table):\n    id = UUID(primary_key=True, default=UUID4())\n"
    )
    migration.write_text(body)
    assert add_missing_key_imports(migration, [Project]) == [UUID4_IMPORT]
    assert migration.read_text() == f"{UUID4_IMPORT}\n{body}"
    assert add_missing_key_imports(migration, [Project]) == []  # present: left alone
    assert migration.read_text().count(UUID4_IMPORT) == 1


def test_a_migration_naming_none_of_them_is_left_alone(tmp_path: Path) -> None:
    migration = tmp_path / "m.py"
    migration.write_text("from piccolo.table import Table\n")
    assert add_missing_key_imports(migration, [Project]) == []
    assert migration.read_text() == "from piccolo.table import Table\n"
