"""The admin's own tables: who may log in to /admin/, and as what.

`piccolo_user` (Piccolo's BaseUser) and `sessions` (piccolo-api's SessionsBase) belong to
this app: it creates them in its migrations, and declares them through the subclasses
below, which piccolo-admin is given as its auth and session tables. `piccolo user create`
still works: it writes the same table.
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import UUID, Boolean, ForeignKey
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table
from piccolo_api.session_auth.tables import SessionsBase

from refresh.compat.piccolo_login import (
    create_user_off_loop,
    login_off_loop,
    update_password_off_loop,
)
from refresh.tenancy.declarations import Distribution, audited, global_table
from refresh.tenancy.tables import Timestamps, tenant_root_reference


# Logins and sessions are read by the admin gate on the write client, before any tenant
# transaction opens: the request roles get no grant on them.
class AdminUser(BaseUser, tablename="piccolo_user"):
    rls = global_table(
        "admin logins (piccolo users): read by the admin gate through the write client only",
        audit=audited(tenant_column="", quiet=("last_login",)),
        distribution=Distribution.local,
    )

    @classmethod
    async def login(cls, username: str, password: str) -> Any:
        # Piccolo's login hashes in the event loop (~0.3 s per attempt, every request of
        # the process waits); this one hashes in a worker thread.
        return await login_off_loop(cls, username, password)

    @classmethod
    async def update_password(cls, user: str | int, password: str) -> None:
        # The admin's change-password page: the same, for the new password's hash.
        await update_password_off_loop(cls, user, password)

    @classmethod
    async def create_user(cls, username: str, password: str, **extra_params: Any) -> Any:
        # An operator adding a login on the logins page: the same, for its first password.
        return await create_user_off_loop(cls, username, password, **extra_params)


class AdminSession(SessionsBase, tablename="sessions"):
    # An operator viewing the admin as a tenant's staff (apps/admin/view_as.py): the
    # tenant, kept with the session on the server, so no cookie or query can choose it,
    # and the view ends with the session. Only operators' sessions ever have one.
    viewing = UUID(null=True, default=None)
    # Whether the operator chose to make changes in that view (each one audited as
    # theirs); a view is read-only otherwise.
    viewing_writes = Boolean(default=False, null=False)

    rls = global_table(
        "admin sessions: read by the admin gate through the write client only",
        distribution=Distribution.local,
    )


class StaffProfile(Timestamps, Table):
    """Makes a piccolo user the staff of exactly one tenant (unique user).

    Bound to the write client (piccolo_conf.DB): the gate reads it before the tenant
    transaction opens, and request roles have no grant on it.
    """

    user_id = ForeignKey(AdminUser, null=False, unique=True, index=True)
    tenant_id: ForeignKey[Table] = ForeignKey(
        LazyTableReference(**tenant_root_reference()), null=False, index=True
    )

    # Audited as the platform's (the nil tenant), like the logins: its ids are numbered
    # across every tenant, and a tenant's staff, who read their tenant's entries, would
    # learn from them how many logins there are and how fast they come (issue 15).
    rls = global_table(
        "which tenant each staff login belongs to: read by the admin gate through the "
        "write client only",
        audit=audited(tenant_column=""),
        distribution=Distribution.local,
    )
