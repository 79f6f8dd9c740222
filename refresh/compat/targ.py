"""targ (the parser behind the `piccolo` CLI): accept `--option value` in our commands.

targ understands only `--option=value`: a bare `--option` is a flag (True), and the value
that follows becomes a positional argument, silently landing in the wrong parameter
(`--user bob --tenant acme` would give tenant="bob"). targ has no hook for its parsing,
so each of our commands is wrapped explicitly where it is registered
(`Command(accepts_spaced_options(create))`): the wrapper reads the command's own words
from sys.argv again, pairing `--option value` for options that are not booleans (and
spelling `--password-env` as the parameter `password_env`), then calls the command.
tests/refresh/compat/test_targ.py fails if targ starts parsing `--option value` itself.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any, get_type_hints

TRUE_WORDS = ("true", "t", "1", "yes")


def command_words(argv: Sequence[str], name: str) -> list[str] | None:
    """The words after `piccolo <group> <name>` (or `<name>` spelled with dashes), or None
    when argv is not that command line (the command was called from code)."""
    # `import_` is the command `import` (a Python keyword cannot name a function)
    if len(argv) >= 3 and argv[2].replace("-", "_") in (name, name.removesuffix("_")):
        return list(argv[3:])
    return None


def parse_words(command: Callable[..., Any], words: Sequence[str]) -> dict[str, Any]:
    """The command's keyword arguments from its words, converted like targ converts them."""
    hints = get_type_hints(command)
    parameters = list(inspect.signature(command).parameters)
    kwargs: dict[str, Any] = {}
    positional: list[str] = []
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if word == "--trace":  # targ's own option
            continue
        if not word.startswith("--"):
            positional.append(word)
            continue
        option, equals, value = word[2:].partition("=")
        name = option.replace("-", "_")
        if equals:
            kwargs[name] = value
        elif hints.get(name) is not bool and rest and not rest[0].startswith("--"):
            kwargs[name] = rest.pop(0)
        else:
            kwargs[name] = True
    free = [p for p in parameters if p not in kwargs]
    for name, value in zip(free, positional, strict=False):
        kwargs[name] = value
    return {name: convert(hints.get(name), value) for name, value in kwargs.items()}


def convert(annotation: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if annotation is bool:
        return value.lower() in TRUE_WORDS
    if annotation in (int, float):
        return annotation(value)
    return value


def accepts_spaced_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command`, taking its arguments from sys.argv as parsed by `parse_words`."""

    def arguments(given: dict[str, Any]) -> dict[str, Any]:
        words = command_words(sys.argv, command.__name__)
        return given if words is None else parse_words(command, words)

    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(command):

        async def run_async(**given: Any) -> Any:
            return await command(**arguments(given))

        wrapper = run_async
    else:

        def run(**given: Any) -> Any:
            return command(**arguments(given))

        wrapper = run
    wrapper = functools.wraps(command)(wrapper)
    # targ reads the parameters (help text, positional arguments) from the signature, and
    # lists every annotation as an argument: the return type is none.
    wrapper.__signature__ = inspect.signature(command)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {k: v for k, v in command.__annotations__.items() if k != "return"}
    return wrapper
