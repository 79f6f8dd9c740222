"""A migration step that refuses to go on: the `piccolo migrations` command ends with
the refusal's text on stderr and exit status 1, and nothing else.

A SystemExit rather than an Exception: the CLI's parser (targ) answers any Exception
with "The command failed.", a hint about --trace and then the command's whole help,
which pushed the one paragraph saying what to do off the screen. targ has no hook for
this (see refresh/compat/targ.py); the exceptions it lets through are SystemExit's.
Piccolo still rolls the migration's transaction back, as for any exception
(tests/refresh/schema/test_preflight.py checks that nothing changed and what is printed).
"""

from __future__ import annotations


class MigrationRefused(SystemExit):
    """The migration cannot go ahead; `str()` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)  # Python prints a text exit code on stderr, exits 1
