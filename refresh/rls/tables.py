"""The platform's own tables: the audit log, and who of the operators did what.

Every change to an audited table (declared on the table class: refresh/tenancy) is
appended to `audit_log` by the trigger function `audit_change()` (migrations/rls), for API
requests, tenant staff, operators and the CLI alike. The table itself was created by the
admin app's first migrations, when the audit log was the admin's; it is the platform's
since, which the migrations of both apps record without touching it.
"""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from refresh.tenancy.declarations import (
    AUTHENTICATED,
    Distribution,
    Policy,
    not_audited,
    row_security,
)
from refresh.tenancy.routed import TenantRouted
from refresh.tenancy.tables import ReadClientTable


class AuditLog(TenantRouted, ReadClientTable, Table):
    """Every change to an audited table, written by the trigger function audit_change().

    Append-only: request roles may only read it (their tenant's entries), the trigger
    function inserts as the table owner, and only that owner could change a row.
    No updated_at: an entry never changes.
    """

    id = UUID(primary_key=True, default=UUID4())
    created_at = Timestamptz(default=TimestamptzNow(), null=False)
    # Who, in a namespace per kind of actor, so none can pass for another: api:<sub> (a
    # token's subject), staff:<username> (the admin), operator (an operator: the name is
    # in operator_action, which request roles cannot read), system:<application_name>
    # (the write client: CLI commands, jobs).
    actor = Varchar(length=255, null=False)
    via = Varchar(length=32, null=False)  # api | admin | operator | write client
    # No foreign key: the history of a deleted tenant stays readable. The nil uuid for a
    # row of no tenant (a login): never NULL, which a log sharded by tenant could not hold.
    tenant_id = UUID(null=False, default=None)
    table_name = Varchar(length=63, null=False)
    row_id = Varchar(length=64, null=False)
    action = Varchar(length=8, null=False)  # insert | update | delete
    changes = JSONB(null=False)

    rls = row_security(
        Policy("audit_tenant_select", "select", using="tenant_id = auth.tenant_id()"),
        grants={AUTHENTICATED: ("select",)},
        reason="append-only history: a tenant reads its own entries; nobody writes directly",
        audit=not_audited("the audit log itself: its entries are what the audit trigger writes"),
        # beside the tenant's rows: the audit trigger of a shard writes to the same node
        distribution=Distribution.by_tenant,
    )


class OperatorAction(ReadClientTable, Table):
    """Which operator made an audited change: kept apart from audit_log, whose rows tenant
    staff read, so that staff see that an operator changed their data, not who.

    One row per audit entry, with the entry's id and tenant: sharded by tenant beside
    the audit log, so that the audit trigger of a shard (Citus) writes it on the same node
    as the entry (a reference table cannot be written from a shard's trigger). Request
    roles have no grant on it and no policy: RLS is forced and nothing is visible to them;
    bound to the read client like every table under RLS, so that a query of it inside a
    request is refused rather than run by the write client. Operators' code reads it with
    the write client's SQL.
    """

    id = UUID(primary_key=True)  # the audit entry's id
    tenant_id = UUID(null=False, default=None)  # the audit entry's tenant (nil: no tenant)
    operator = Varchar(length=255, null=False)

    rls = row_security(
        grants={},
        reason="the operator behind each audit entry: read by operators only (write client)",
        audit=not_audited("part of the audit log: written by the audit trigger with its entry"),
        distribution=Distribution.by_tenant,
    )
