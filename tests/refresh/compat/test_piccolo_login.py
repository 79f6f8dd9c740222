"""refresh/compat/piccolo_login.py: `login_off_loop` repeats Piccolo's BaseUser.login with the
hashing in a thread. The first test fails when Piccolo's login or hashing changes (then
read the new version and repeat it); the second checks both agree on real logins."""

from __future__ import annotations

import hashlib
import inspect
import uuid

from piccolo.apps.user.tables import BaseUser

from refresh.compat.piccolo_login import login_off_loop

# sha256 of the source of piccolo 1.38.0's BaseUser.login and BaseUser.hash_password
LOGIN_SOURCE = "27910ba32d41bf063c6c7811f4a6bf234062019c5914869fc18ca5a861b1ad8e"
HASH_SOURCE = "399d073e308a2e0152c3ad1f26e5289d728fe1ba627099943f9352316a6287b9"


def fingerprint(function: object) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()  # type: ignore[arg-type]


def test_piccolo_login_is_the_version_repeated_here() -> None:
    assert fingerprint(BaseUser.login) == LOGIN_SOURCE
    assert fingerprint(BaseUser.hash_password) == HASH_SOURCE


async def test_login_off_loop_answers_like_piccolos_login(app: object) -> None:
    username = f"compat-{uuid.uuid4().hex[:8]}"
    await BaseUser.create_user(username=username, password="pass-word-1", active=True)
    for name, password in [
        (username, "pass-word-1"),
        (username, "wrong-word-1"),
        ("nobody-" + username, "pass-word-1"),
        (username, "x" * 200),
        ("u" * 500, "pass-word-1"),
    ]:
        ours = await login_off_loop(BaseUser, name, password)
        theirs = await BaseUser.login(name, password)
        assert ours == theirs, (name, password)
    assert await login_off_loop(BaseUser, username, "pass-word-1") is not None
