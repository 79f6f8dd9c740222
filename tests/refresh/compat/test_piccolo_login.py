"""refresh/compat/piccolo_login.py: `login_off_loop` repeats Piccolo's BaseUser.login with the
hashing in a thread. The first test fails when Piccolo's login or hashing changes (then
read the new version and repeat it); the second checks both agree on real logins."""

from __future__ import annotations

import hashlib
import inspect
import uuid

import pytest
from piccolo.apps.user.tables import BaseUser

from refresh.compat.piccolo_login import (
    create_user_off_loop,
    login_off_loop,
    update_password_off_loop,
)

# sha256 of the source of piccolo 1.38.0's BaseUser.login and BaseUser.hash_password
LOGIN_SOURCE = "27910ba32d41bf063c6c7811f4a6bf234062019c5914869fc18ca5a861b1ad8e"
HASH_SOURCE = "399d073e308a2e0152c3ad1f26e5289d728fe1ba627099943f9352316a6287b9"
# and of its BaseUser.update_password (update_password_off_loop)
UPDATE_SOURCE = "3f0bb0e25329c238906e4c69354ade757546c5d4ce60fda80495e2d6ea3722d5"
# and of its BaseUser.create_user, and the constructor that keeps a hash as it is
# (create_user_off_loop)
CREATE_SOURCE = "53cf5f3cf0b02b60b126534148bbf0c7626e773e84649497ef772f751be8554a"
INIT_SOURCE = "e0378508e5f1cbd5a608ecbc5faafadd7f0180c33f6c287faa6af937d4e6ad51"


def fingerprint(function: object) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()  # type: ignore[arg-type]


def test_piccolo_login_is_the_version_repeated_here() -> None:
    assert fingerprint(BaseUser.login) == LOGIN_SOURCE
    assert fingerprint(BaseUser.hash_password) == HASH_SOURCE
    assert fingerprint(BaseUser.update_password) == UPDATE_SOURCE
    assert fingerprint(BaseUser.create_user) == CREATE_SOURCE
    assert fingerprint(BaseUser.__init__) == INIT_SOURCE


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


async def test_update_password_off_loop_answers_like_piccolos(app: object) -> None:
    username = f"compat-{uuid.uuid4().hex[:8]}"
    user = await BaseUser.create_user(
        username=username, password="pass-word-1", email=f"{username}@x.test", active=True
    )
    for who in (username, user.id):  # by username and by id, as Piccolo takes either
        await update_password_off_loop(BaseUser, who, "pass-word-2")
        assert await BaseUser.login(username, "pass-word-2") == user.id
        assert await BaseUser.login(username, "pass-word-1") is None
        await BaseUser.update_password(who, "pass-word-1")
    for bad in ("", "x" * 200):  # Piccolo's own validation, the same error
        with pytest.raises(ValueError) as theirs:
            await BaseUser.update_password(username, bad)
        with pytest.raises(ValueError) as ours:
            await update_password_off_loop(BaseUser, username, bad)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError):
        await update_password_off_loop(BaseUser, 1.5, "pass-word-3")  # type: ignore[arg-type]
    assert await BaseUser.login(username, "pass-word-1") == user.id


async def test_create_user_off_loop_answers_like_piccolos(app: object) -> None:
    username = f"compat-{uuid.uuid4().hex[:8]}"
    user = await create_user_off_loop(
        BaseUser, username, "pass-word-1", email=f"{username}@x.test", active=True
    )
    assert await BaseUser.login(username, "pass-word-1") == user.id
    for name, bad in (("", "pass-word-1"), ("x-" + username, "x"), ("y-" + username, "")):
        with pytest.raises(ValueError) as theirs:
            await BaseUser.create_user(name, bad)
        with pytest.raises(ValueError) as ours:
            await create_user_off_loop(BaseUser, name, bad)
        assert str(ours.value) == str(theirs.value)
