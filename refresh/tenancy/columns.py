"""TenantForeignKey: a reference from one tenant table to another tenant table's row.

Foreign key checks ignore RLS, so a plain key would let tenant B point a task at tenant
A's project, and learn from the error whether that id exists. A tenant foreign key is the
composite `(tenant_id, project_id) -> project (tenant_id, id)`: the database itself refuses
a reference across tenants, with the same error whether the row exists elsewhere or not,
and the same shape is what Citus needs to co-locate tenant tables.

To Piccolo it is an ordinary ForeignKey (joins, `Task.project_id.name`), created without a
REFERENCES clause: `piccolo rls new` generates the composite key, its index and its
ON DELETE action from the column, and `piccolo rls check` verifies them. Piccolo's own
ON DELETE stays at its default and is never migrated by Piccolo: the action that counts
is `tenant_on_delete`.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import ForeignKey
from piccolo.columns.base import OnDelete
from piccolo.table import Table

#: ON DELETE actions a tenant foreign key may take (all of them Citus accepts too).
TENANT_ON_DELETE = (OnDelete.cascade, OnDelete.restrict, OnDelete.no_action, OnDelete.set_null)


class TenantForeignKey(ForeignKey[Table]):
    def __init__(
        self,
        references: Any,
        *,
        on_delete: OnDelete = OnDelete.cascade,
        null: bool = False,
        index: bool = False,
        **kwargs: Any,
    ) -> None:
        if on_delete not in TENANT_ON_DELETE:
            raise ValueError(f"a tenant foreign key takes on_delete in {TENANT_ON_DELETE}")
        if on_delete is OnDelete.set_null and not null:
            raise ValueError("on_delete=set_null needs null=True")
        # Piccolo's on_delete is left at its default: Piccolo never creates or migrates
        # this key's constraint (see ddl), so only `tenant_on_delete` reaches the database.
        super().__init__(references, null=null, index=index, **kwargs)
        self.tenant_on_delete = on_delete

    @property
    def ddl(self) -> str:
        """The column as Piccolo creates it, without its REFERENCES clause: the composite
        key comes with the table's RLS migration."""
        query = f'"{self._meta.db_column_name}" {self.column_type}'
        if self._meta.unique:
            query += " UNIQUE"
        if not self._meta.null:
            query += " NOT NULL"
        return query + f" DEFAULT {self.get_sql_value(value=self.get_default_value())}"
