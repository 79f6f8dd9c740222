"""refresh/compat/targ.py: our commands take `--option value`; targ alone does not."""

from __future__ import annotations

import inspect
import sys
from typing import Any

import pytest
from targ import CLI

from refresh.compat.targ import accepts_spaced_options, command_words, parse_words


def token(tenant: str = "", user: str = "", ttl: int = 3600, json: bool = False) -> dict[str, Any]:
    return {"tenant": tenant, "user": user, "ttl": ttl, "json": json}


def run_targ(monkeypatch: pytest.MonkeyPatch, command: Any, *words: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def recorded(**kwargs: Any) -> None:
        seen.update(command(**kwargs))

    recorded.__signature__ = inspect.signature(command)  # type: ignore[attr-defined]
    recorded.__annotations__ = command.__annotations__
    recorded.__name__ = "token"
    cli = CLI()
    cli.register(recorded, group_name="rls", command_name="token")
    monkeypatch.setattr(sys, "argv", ["piccolo", "rls", "token", *words])
    cli.run()
    return seen


def test_targ_itself_still_misreads_spaced_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reason for the adaptation: when this fails, targ parses `--option value` itself
    and refresh/compat/targ.py can go."""
    seen = run_targ(monkeypatch, token, "--user", "bob", "--tenant", "acme")
    assert seen["tenant"] == "bob"  # the values land in the wrong parameters
    assert seen["user"] == "acme"


def test_wrapped_commands_read_their_own_words(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = run_targ(
        monkeypatch,
        accepts_spaced_options(token),
        "--user",
        "bob",
        "--tenant=acme",
        "--ttl",
        "60",
        "--json",
    )
    assert seen == {"tenant": "acme", "user": "bob", "ttl": 60, "json": True}


def test_words_pair_options_with_values_but_not_flags() -> None:
    assert parse_words(token, ["acme", "--json", "--user", "bob"]) == {
        "tenant": "acme",
        "json": True,
        "user": "bob",
    }
    assert parse_words(token, ["--json", "false"]) == {"json": True, "tenant": "false"}


def test_words_belong_to_the_command_on_the_command_line() -> None:
    assert command_words(["piccolo", "rls", "token", "--user", "x"], "token") == ["--user", "x"]
    assert command_words(["piccolo", "admin", "staff-create", "u"], "staff_create") == ["u"]
    assert command_words(["pytest", "tests"], "token") is None  # called from code
    # `import_` (a keyword cannot name a function) is registered as the command `import`
    assert command_words(["piccolo", "tenants", "import", "f", "--replace"], "import_") == [
        "f",
        "--replace",
    ]


def test_called_from_code_a_wrapped_command_takes_its_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "argv", ["pytest"])
    assert accepts_spaced_options(token)(user="u", ttl=5)["ttl"] == 5
