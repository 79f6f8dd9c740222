"""`piccolo rls doctor --token JWT [--table T]`: why does this token's query return no rows?

It walks the request path (DESIGN.md "One request") in order: the token, its claims, the
tenant, the switch from the authenticator to `authenticated`, then for each table RLS,
the SELECT policy, the grant and the rows. The first failed step is the diagnosis; the
later steps still run where they can, as they often name a second problem. The rows a
token sees are counted the way a request reads them: a login as the authenticator and
`auth.begin_request`, in a READ ONLY transaction that is always rolled back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from refresh.db.claims import Claims
from refresh.db.clients import write_client
from refresh.db.engines import READ_DB, close_read_pool, read_url, start_read_pool
from refresh.db.sql import quote_ident
from refresh.db.transaction import RequestTransaction
from refresh.rls.live import LiveTable, live_tables
from refresh.rls.status import declared_tables
from refresh.rls.token_info import claim_error, expiry_text, unverified_payload
from refresh.tenancy.declarations import TENANT_COLUMN
from refresh.tenancy.tables import tenant_root_table
from refresh.web.tokens import AuthError, TokenVerifier
from settings import Settings, get_settings

MARKS = {"ok": "✓", "fail": "✗", "warn": "!"}
DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
MIGRATE = "`piccolo migrations forwards all`"
HAS_COLUMN_SQL = """
select 1 from pg_attribute
 where attrelid = format('public.%I', $1::text)::regclass and attname = $2 and not attisdropped
"""


@dataclass
class Step:
    name: str
    level: str  # ok | fail | warn (a warning stops nothing)
    detail: str
    diagnosis: str | None = None  # the user's answer when this is the first failed step


class Doctor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.role = settings.authenticated_role
        self.steps: list[Step] = []
        self.seen: list[str] = []  # "N rows of T", for the all-good diagnosis
        self.empty: list[str] = []  # tables where the tenant has no rows (no --table)
        self.tenant = ""  # its slug, or the token's tenant_id when no tenant has it
        self.one_table = False  # --table given: then an empty result is the problem

    def ok(self, name: str, detail: str) -> bool:
        self.steps.append(Step(name, "ok", detail))
        return True

    def warn(self, name: str, detail: str) -> None:
        self.steps.append(Step(name, "warn", detail))

    def fail(self, name: str, detail: str, diagnosis: str) -> bool:
        self.steps.append(Step(name, "fail", detail, diagnosis))
        return False

    async def run(self, token: str, table: str | None) -> None:
        claims = await self.check_token(token)
        if claims is None:
            return  # nothing can run without verified claims
        try:
            self.tenant, self.one_table = await self.check_tenant(claims), table is not None
            can_switch = await self.check_role_switch(claims)
            live = await live_tables()
            if table is not None and table not in live:
                known = ", ".join(sorted(live)) or "none"
                why = f"table {table} does not exist: check the name (public has {known})"
                self.fail(table, f"table {table} does not exist in schema public", why)
                return
            names = (
                [table] if table else [t for _, t, kind in declared_tables() if kind == "tenant"]
            )
            for name in names:
                await self.check_table(claims, name, live.get(name), can_switch)
        except DB_ERRORS as exc:
            why = f"the database cannot be read through the admin role ({exc})"
            self.fail("database", f"the admin connection failed: {exc}", why)

    async def check_token(self, token: str) -> Claims | None:
        try:
            claims = await TokenVerifier(self.settings).verify(token)
        except AuthError as exc:
            payload = unverified_payload(token)
            if exc.code == "token_expired":  # PyJWT checks the signature before exp
                when = expiry_text(payload.get("exp"))
                why = f"the token has expired ({when}): get a new one (`piccolo rls token ...`)"
                self.fail("token", f"the signature is valid but the token expired {when}", why)
            elif payload and claim_error(payload) == exc.message:
                # The same refusal from the unverified payload: signature and exp passed.
                self.ok("token", f"signature valid, expires {expiry_text(payload['exp'])}")
                why = f"the token's claims are unusable ({exc.message}): the API answers 401"
                self.fail("claims", exc.message, why)
            else:
                why = (
                    f"the token is refused ({exc.message}): the API answers 401, no query "
                    "runs; check JWT_SECRET/JWKS, the audience and the issuer"
                )
                self.fail("token", f"refused: {exc.message}", why)
            return None
        self.ok("token", f"signature valid, expires {expiry_text(claims.payload.get('exp'))}")
        claimed = f"tenant_id {claims.tenant_id}, sub {claims.user_id}"
        self.ok("claims", f"{claimed}, tenant_role {claims.tenant_role}")
        return claims

    async def check_tenant(self, claims: Claims) -> str:
        """The tenant's slug, or its id when no tenant has it."""
        tenant = tenant_root_table()
        slug, name = (tenant._meta.get_column_by_name(c) for c in ("slug", "name"))
        row = await write_client.run(
            tenant.select(slug, name).where(tenant._meta.primary_key == claims.tenant_id).first()
        )
        if row is None:
            why = (
                f"the token's tenant_id {claims.tenant_id} matches no tenant: the token was "
                "issued for another database or the tenant was deleted"
            )
            self.fail("tenant", f"no tenant has id {claims.tenant_id}", why)
            return str(claims.tenant_id)
        self.ok("tenant", f"tenant {row['slug']} ({row['name']}) exists")
        return str(row["slug"])

    async def check_role_switch(self, claims: Claims) -> bool:
        # The login of READ_URL, which a misconfiguration may have made another role.
        login = urlsplit(read_url()).username or self.settings.authenticator_role
        sql = "select current_user, auth.tenant_id()"
        try:
            row = await in_request(claims, self.settings, sql)
        except asyncpg.InvalidAuthorizationSpecificationError:
            # auth.begin_request checks membership (MEMBERSHIP_CHECK): not a grant problem.
            subject, role = claims.user_id, claims.tenant_role.value
            why = (
                f"the token's subject {subject} is not a current member of its tenant with "
                f"role {role}: add the member (POST /api/members with a tenant admin's "
                "token), or use a current member's token"
            )
            return self.fail("role switch", f"{subject} is not a member ({role})", why)
        except asyncpg.InsufficientPrivilegeError as exc:
            # The rls migration grants it, but only once: a revoked grant stays revoked.
            why = f"{login} cannot become {self.role} ({exc}): `grant {self.role} to {login}`"
            return self.fail("role switch", f"{login} cannot switch to {self.role}: {exc}", why)
        except DB_ERRORS as exc:
            why = f"the read client cannot start a request ({exc}): check READ_DATABASE_URL"
            return self.fail("role switch", f"{login} cannot log in or switch: {exc}", why)
        user, tenant_id = row[0], row[1]
        if user != self.role or tenant_id != claims.tenant_id:
            why = "auth.begin_request does not set the role and claims: re-run the rls migration"
            return self.fail("role switch", f"runs as {user}, tenant {tenant_id}", why)
        return self.ok("role switch", f"{login} becomes {user}; auth.tenant_id() = {tenant_id}")

    async def check_table(
        self, claims: Claims, name: str, live: LiveTable | None, can_switch: bool
    ) -> None:
        if live is None:
            why = f"table {name} is declared but does not exist: run {MIGRATE}"
            self.fail(name, f"table {name} is not in the database", why)
            return
        state = live.state
        self.ok(f"{name}: exists", f"table {name} exists")
        if not state.enabled:
            # Not why rows are missing (every row is visible), but a leak on a tenant table.
            self.warn(f"{name}: rls", f"RLS is disabled: {name} shows every row to every tenant")
        else:
            if state.forced:
                self.ok(f"{name}: rls", "RLS is enabled and forced")
            else:
                why = (
                    f"RLS of {name} is enabled but not forced: its owner's queries skip the "
                    "policies; `piccolo rls check` gives the fix"
                )
                self.fail(f"{name}: rls", "RLS is enabled but not forced", why)
            reads = [
                (f"{n} USING {p.using}", p.permissive)
                for n, p in sorted(state.policies.items())
                if p.command in ("select", "all") and {"authenticated", "public"} & set(p.roles)
            ]
            permissive = "; ".join(text for text, permits in reads if permits)
            restrictive = "; ".join(text for text, permits in reads if not permits)
            if not permissive:  # RLS on and no permissive policy: PostgreSQL denies every row
                why = f"RLS allows no rows: table {name} has no SELECT policy for {self.role}"
                self.fail(f"{name}: policy", f"no permissive SELECT policy for {self.role}", why)
            else:
                self.ok(f"{name}: policy", f"SELECT policy {permissive}")
            if restrictive:
                self.warn(f"{name}: policy", f"narrowed by restrictive {restrictive}")
        granted = await write_client.fetch(
            "select has_table_privilege($1, format('public.%I', $2::text), 'select') as ok",
            self.role,
            name,
        )
        if not granted[0]["ok"]:
            why = f"{self.role} has no SELECT grant on {name}: `piccolo rls check` gives the fix"
            self.fail(f"{name}: grant", f"{self.role} has no SELECT grant on {name}", why)
            return
        self.ok(f"{name}: grant", f"{self.role} has the SELECT grant")
        if can_switch:
            await self.check_rows(claims, name)

    async def check_rows(self, claims: Claims, name: str) -> None:
        step, table = f"{name}: rows", quote_ident(name)
        try:
            visible = (await in_request(claims, self.settings, f"select count(*) from {table}"))[0]
        except DB_ERRORS as exc:
            why = f"the rows of {name} cannot be read with this token ({exc})"
            self.fail(step, f"counting the rows this token sees failed: {exc}", why)
            return
        if await write_client.fetch(HAS_COLUMN_SQL, name, TENANT_COLUMN):
            own_sql, args = f"count(*) filter (where {TENANT_COLUMN} = $1)", [claims.tenant_id]
        else:  # e.g. `tenant` itself: keyed by id, no per-tenant count
            own_sql, args = "null::bigint", []
        counts = await write_client.fetch(
            f"select count(*) as total, {own_sql} as own from {table}", *args
        )
        total, own = counts[0]["total"], counts[0]["own"]
        tenant = self.tenant
        held = f"the table holds {plural(total)}"
        held += "" if own is None else f", {own} of tenant {tenant}"
        held = "the table is empty" if total == 0 else held
        if visible > 0:
            self.seen.append(f"{plural(visible)} of {name}")
            self.ok(step, f"this token sees {plural(visible)} ({held})")
            if own is not None and visible > own:  # not a cause of missing rows: a leak
                self.warn(step, "this token sees rows of other tenants: check the policies")
        elif not self.one_table and (total == 0 or own == 0):
            # Across every tenant table, one the tenant has not used yet is no fault.
            self.empty.append(name)
            self.warn(step, f"this token sees 0 rows ({held}): tenant {tenant} has none yet")
        elif total == 0:
            self.fail(step, f"{name} is empty", f"no rows: table {name} is empty")
        elif own == 0:
            why = (
                f"no rows: tenant {tenant} has no rows in {name} "
                f"(the table holds {plural(total)} of other tenants)"
            )
            self.fail(step, f"this token sees 0 rows ({held})", why)
        else:
            why = (
                f"RLS hides every row of {name} from this token: the SELECT policies' USING "
                "does not match its claims (see `piccolo rls status`)"
            )
            self.fail(step, f"this token sees 0 rows ({held})", why)

    def diagnosis(self) -> str:
        for step in self.steps:
            if step.diagnosis is not None:
                return step.diagnosis
        empty = ", ".join(self.empty)
        if not self.seen:
            if empty:
                return f"no rows: tenant {self.tenant} has no rows in {empty}"
            return "nothing was checked: no table is declared as a tenant table; give --table"
        good = f"all good: this token sees {', '.join(self.seen)}"
        if empty:
            good += f"; tenant {self.tenant} has no rows in {empty} yet"
        warnings = sum(s.level == "warn" for s in self.steps) - len(self.empty)
        return good + (" (but read the ! warnings above)" if warnings else "")


async def in_request(claims: Claims, settings: Settings, sql: str) -> Any:
    """The first row of `sql`, run as a request runs it: the request transaction on the
    read client (authenticator, auth.begin_request), READ ONLY, always rolled back."""
    transaction = RequestTransaction(READ_DB, claims, settings.authenticated_role, read_only=True)
    async with transaction:
        row = await transaction.connection.fetchrow(sql)
        await transaction.rollback()
    return row


def plural(rows: int) -> str:
    return f"{rows} row" if rows == 1 else f"{rows} rows"


async def run_doctor(token: str, table: str | None, as_json: bool) -> int:
    doctor = Doctor(get_settings())
    try:
        # One read-pool connection, for the request transactions of its checks.
        await start_read_pool(min_size=0, max_size=1)
    except DB_ERRORS:
        pass  # the role switch step reports it
    try:
        await doctor.run(token, table)
    finally:
        await close_read_pool()
    diagnosis = doctor.diagnosis()
    if as_json:
        steps = [
            {"name": s.name, "ok": s.level != "fail", "level": s.level, "detail": s.detail}
            for s in doctor.steps
        ]
        print(json.dumps({"steps": steps, "diagnosis": diagnosis}, indent=2, ensure_ascii=False))
    else:
        width = max(len(s.name) for s in doctor.steps)
        for step in doctor.steps:
            print(f"{MARKS[step.level]} {step.name.ljust(width)}  {step.detail}")
        print(f"Diagnosis: {diagnosis}")
    return 0 if diagnosis.startswith("all good") else 1
