"""The admin's own tables: who may log in to /admin/, as what, and the audit log.

`piccolo_user` (Piccolo's BaseUser) and `sessions` (piccolo-api's SessionsBase) belong to
this app: it creates them in its migrations, and declares them through the subclasses
below, which piccolo-admin is given as its auth and session tables. `piccolo user create`
still works: it writes the same table.
"""

from __future__ import annotations

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import JSONB, UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table
from piccolo_api.session_auth.tables import SessionsBase

from refresh.tenancy.declarations import AUTHENTICATED, Policy, global_table, row_security
from refresh.tenancy.tables import ReadClientTable, Timestamps, tenant_root_reference


# Logins and sessions are read by the admin gate on the write client, before any tenant
# transaction opens: the request roles get no grant on them.
class AdminUser(BaseUser, tablename="piccolo_user"):
    rls = global_table(
        "admin logins (piccolo users): read by the admin gate through the write client only"
    )


class AdminSession(SessionsBase, tablename="sessions"):
    rls = global_table("admin sessions: read by the admin gate through the write client only")


class StaffProfile(Timestamps, Table):
    """Makes a piccolo user the staff of exactly one tenant (unique user).

    Bound to the write client (piccolo_conf.DB): the gate reads it before the tenant
    transaction opens, and request roles have no grant on it.
    """

    user_id = ForeignKey(AdminUser, null=False, unique=True, index=True)
    tenant_id: ForeignKey[Table] = ForeignKey(
        LazyTableReference(**tenant_root_reference()), null=False, index=True
    )

    rls = global_table(
        "which tenant each staff login belongs to: read by the admin gate through the "
        "write client only"
    )


class AuditLog(ReadClientTable, Table):
    """Every change to an audited table, written by a trigger (see the admin migrations).

    Append-only: request roles may only read it (their tenant's entries), the trigger
    function inserts as the table owner, and only that owner could change a row.
    No updated_at: an entry never changes.
    """

    id = UUID(primary_key=True, default=UUID4())
    created_at = Timestamptz(default=TimestamptzNow(), null=False)
    # request: the JWT's sub (API) or staff:<username> (admin);
    # operator:<username>; or the write client's application name (CLI, jobs).
    actor = Varchar(length=255, null=False)
    via = Varchar(length=32, null=False)  # api | admin | operator | write client
    # No foreign key: the history of a deleted tenant stays readable.
    tenant_id = UUID(null=True, default=None)
    table_name = Varchar(length=63, null=False)
    row_id = Varchar(length=64, null=False)
    action = Varchar(length=8, null=False)  # insert | update | delete
    changes = JSONB(null=False)

    rls = row_security(
        Policy("audit_tenant_select", "select", using="tenant_id = auth.tenant_id()"),
        grants={AUTHENTICATED: ("select",)},
        reason="append-only history: a tenant reads its own entries; nobody writes directly",
    )
