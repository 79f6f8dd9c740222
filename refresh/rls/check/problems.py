"""What `piccolo rls check` reports: one Problem per fault, each with a fix that, followed
literally, clears it (tests/refresh/rls/test_check.py follows every one), root causes
first and the problems they explain grouped under them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

ADMIN = "the admin role"
SUPERUSER = "a superuser"


@dataclass(frozen=True)
class Fix:
    """What to do, in the order given: change the code, run commands, run SQL."""

    edit: str = ""  # a change to a table class, described exactly
    commands: tuple[str, ...] = ()  # shell commands at the project root
    sql: str = ""  # statements to run as `run_as`
    run_as: str = ADMIN
    then: tuple[str, ...] = ()  # shell commands after the SQL

    def render(self) -> str:
        steps = []
        if self.edit:
            steps.append(self.edit)
        if self.commands:
            steps.append("run " + " && ".join(f"`{c}`" for c in self.commands))
        if self.sql:
            steps.append(f"run as {self.run_as}: {self.sql}")
        if self.then:
            steps.append("run " + " && ".join(f"`{c}`" for c in self.then))
        return "; then ".join(steps)


def commands(*lines: str) -> Fix:
    return Fix(commands=tuple(lines))


def sql(statements: str, run_as: str = ADMIN) -> Fix:
    return Fix(sql=statements, run_as=run_as)


#: SQL for a check's query: whether the check's login (the admin role, which runs the
#: fixes by default) holds the rights of the owner {0}, as it owns what migrations create.
ADMIN_OWNS = "pg_has_role(current_user, {0}, 'USAGE')"


def owner_sql(statements: str, admin_owns: bool) -> Fix:
    """A fix only an object's owner (or a superuser) can run: an ALTER, a DROP, a REVOKE
    (which by anyone else revokes nothing, with a warning). As the admin role where it
    owns the object, else as a superuser (an object made by hand)."""
    return sql(statements, ADMIN if admin_owns else SUPERUSER)


@dataclass(frozen=True)
class Problem:
    code: str  # stable, for machines: rls_disabled, policy_differs, ...
    table: str | None  # the table concerned, None for app- or server-wide problems
    message: str  # what is wrong and why it matters
    fix: Fix
    app: str | None = None  # the app whose tables it concerns, where there is one
    cause: Problem | None = field(default=None, compare=False)  # the root cause

    @property
    def where(self) -> str:
        return self.table or (f"app {self.app}" if self.app else "database")

    def render(self) -> str:
        return f"✗ {self.where} [{self.code}] {self.message}\n  fix: {self.fix.render()}"

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "table": self.table,
            "app": self.app,
            "message": self.message,
            "fix": {**asdict(self.fix), "text": self.fix.render()},
            "cause": None if self.cause is None else f"{self.cause.table}:{self.cause.code}",
        }


#: Fixed before any other app's problems: tenant keys, of any app, need these as their
#: targets, and their fixes, followed in the report's order, would fail before them.
TARGETS_FIRST = frozenset({"tenant_primary_key_missing", "tenant_target_key_missing"})


def order_key(problem: Problem) -> tuple[bool, bool, str, str, str, str]:
    # problems of no app first (a key without tenant_id is dropped before the keys are
    # made again), then the missing key targets of every app, then the rest by app
    first = problem.code in TARGETS_FIRST
    return (
        problem.app is not None,
        not first,
        problem.app or "",
        problem.table or "",
        problem.code,
        problem.message,
    )


def report(problems: list[Problem], checked: str) -> str:
    if not problems:
        return f"✓ piccolo rls check: no problems ({checked})"
    roots = sorted((p for p in problems if p.cause is None), key=order_key)
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    lines = [f"piccolo rls check: {count}, {len(roots)} to fix (causes first)"]
    for root in roots:
        lines += ["", root.render()]
        explained = sorted((p for p in problems if p.cause is root), key=order_key)
        if explained:
            lines.append("  this also explains, and its fix clears:")
            lines += [f"    · {p.where} [{p.code}] {p.message}" for p in explained]
    return "\n".join(lines)


def report_json(problems: list[Problem]) -> str:
    roots = sorted((p for p in problems if p.cause is None), key=order_key)
    ordered = [
        item
        for root in roots
        for item in [root, *sorted((p for p in problems if p.cause is root), key=order_key)]
    ]
    return json.dumps(
        {"ok": not problems, "problems": [p.as_dict() for p in ordered]}, indent=2, default=str
    )
