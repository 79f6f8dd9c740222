"""Before the app serves a request: the table classes declare nothing that would leak, and
the database has what they declare (RLS on and forced, the policies by name, the grants,
the audit triggers). A table added without its RLS migration, or declared wrongly, stops
the app at startup with the problems named, instead of serving its rows unprotected.

`piccolo rls check` is the full comparison (policy expressions, keys, indexes, roles);
this is the part worth a few catalog reads at every start.
"""

from __future__ import annotations

from piccolo.conf.apps import Finder

from refresh.rls.live import live_tables
from refresh.rls.live_keys import live_keys
from refresh.schema.distribution import citus_installed, live_placements
from refresh.schema.state import declared_state
from refresh.tenancy.declarations import Distribution
from refresh.tenancy.verify import all_mistakes


class DeclarationsNotMet(RuntimeError):
    """The code or the database would not keep tenants apart: the app does not start."""


def verify_declarations() -> None:
    """The table classes alone (no database): raise on any declaration mistake."""
    # per app, as `rls check` finds them, so the fixes read the same (a key's fix weighs
    # the other keys of its own app's tables)
    configs = Finder().get_app_registry().app_configs.values()
    found = [m for config in configs for m in all_mistakes(config.table_classes)]
    if found:
        lines = [f"  {m.table} [{m.code}] {m.message}; fix: {m.fix}" for m in found]
        raise DeclarationsNotMet(
            "table declarations that would leak, or keys Citus could not check:\n"
            + "\n".join(lines)
        )


async def verify_database() -> None:
    """The live database against the declarations: raise naming what is missing."""
    live = await live_tables()
    keys = await live_keys()
    # on Citus: a table sharded by tenant left local would run every query on the
    # coordinator, and a reference table left local is unreachable from the shards
    placements = await live_placements() if await citus_installed() else None
    problems = []
    for config in Finder().get_app_registry().app_configs.values():
        for table, want in declared_state(config).state.items():
            have = live.get(table)
            if have is None:
                problems.append(f"{table}: not in the database")
                continue
            state = have.state
            if (state.enabled, state.forced) != (want.enabled, want.forced):
                problems.append(f"{table}: RLS enabled/forced is {state.enabled}/{state.forced}")
            missing = sorted(set(want.policies) - set(state.policies))
            if missing:
                problems.append(f"{table}: policies missing: {', '.join(missing)}")
            if state.grants != want.grants:
                problems.append(f"{table}: grants are {state.grants}, declared {want.grants}")
            if (want.audit is None) != (table not in keys.audit):
                problems.append(f"{table}: the audit trigger is not as declared")
            if placements is not None and want.distribution is not None:
                placed = placements.get(table, Distribution.local)
                if placed != want.distribution:
                    problems.append(
                        f"{table}: placed {placed.value} on Citus, declared "
                        f"{want.distribution} (run `piccolo rls distribute`)"
                    )
    if problems:
        raise DeclarationsNotMet(
            "the database does not have what the table classes declare (run "
            "`piccolo rls new APP` for the apps concerned, then "
            "`piccolo migrations forwards all`; `piccolo rls check` explains each):\n  "
            + "\n  ".join(problems)
        )
