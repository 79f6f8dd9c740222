"""What `piccolo rls check` reports: one Problem per fault, each with a fix."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    code: str  # stable, for machines: rls_disabled, policy_differs, ...
    table: str | None  # the table concerned, None for app- or server-wide problems
    message: str  # what is wrong and why it matters
    fix: str  # what to run or change

    def render(self) -> str:
        where = self.table or "database"
        return f"✗ {where} [{self.code}] {self.message}\n  fix: {self.fix}"


def report(problems: list[Problem], checked: str) -> str:
    if not problems:
        return f"✓ piccolo rls check: no problems ({checked})"
    ordered = sorted(problems, key=lambda p: (p.table or "", p.code, p.message))
    lines = [f"piccolo rls check: {len(problems)} problem{'s' if len(problems) != 1 else ''}"]
    lines += ["", *(p.render() for p in ordered)]
    return "\n".join(lines)


def report_json(problems: list[Problem]) -> str:
    ordered = sorted(problems, key=lambda p: (p.table or "", p.code, p.message))
    return json.dumps({"ok": not problems, "problems": [asdict(p) for p in ordered]}, indent=2)
