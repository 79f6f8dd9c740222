"""Accept `--option value` for this project's `piccolo` commands.

Piccolo's CLI parser (targ) only understands `--option=value`; a bare `--option` is a
flag, and the value that follows becomes a positional argument, silently landing in the
wrong parameter. Our commands are documented the usual way (`--tenant acme`), so before
targ parses sys.argv we join such pairs for parameters that are not booleans, and
spell `--password-env` as targ expects it (`--password_env`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, get_type_hints


def _value_options(command: Callable[..., Any]) -> set[str]:
    hints = get_type_hints(command)
    return {name for name in inspect.signature(command).parameters if hints.get(name) is not bool}


def normalise_argv(
    argv: Sequence[str], commands: dict[tuple[str, str], Callable[..., Any]]
) -> list[str]:
    if len(argv) < 3 or (argv[1], argv[2]) not in commands:
        return list(argv)
    takes_value = _value_options(commands[(argv[1], argv[2])])
    out = list(argv[:3])
    rest = list(argv[3:])
    while rest:
        token = rest.pop(0)
        if token.startswith("--"):
            # --password-env is the usual spelling; targ knows only the parameter name
            option, eq, value = token[2:].partition("=")
            token = "--" + option.replace("-", "_") + eq + value
        name = token[2:]
        if token.startswith("--") and "=" not in token and name in takes_value and rest:
            if not rest[0].startswith("--"):
                token = f"{token}={rest.pop(0)}"
        out.append(token)
    return out
