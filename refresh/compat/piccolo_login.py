"""Piccolo: a login and a password change that hash outside the event loop.

tests/refresh/compat/test_piccolo_login.py fails if Piccolo's login or hashing changes.
"""

from __future__ import annotations

import asyncio
import datetime
import hmac
from typing import Any

from piccolo.apps.user.tables import BaseUser


async def login_off_loop(user_table: type[BaseUser], username: str, password: str) -> Any:
    """`BaseUser.login` with its PBKDF2 hashing (about 0.3 s of CPU) in a worker thread:
    in the event loop it stalls every other request of the process for that long.

    Piccolo hashes inline and offers no hook for it, so its login is repeated here step by
    step (same limits, same dummy hash for an unknown user against timing probes, same
    rehash of an old iteration count, same last_login update). tests/refresh/compat/
    test_piccolo_login.py fails if BaseUser.login changes.
    """
    if (limit := user_table.username.length) and len(username) > limit:
        return None
    if len(password) > user_table._max_password_length:
        return None
    row = (
        await user_table.select(user_table._meta.primary_key, user_table.password)
        .where(user_table.username == username)
        .first()
    )
    if not row:
        await asyncio.to_thread(user_table.hash_password, password)
        return None
    stored: str = row["password"]
    _, iterations_, salt, _ = user_table.split_stored_password(stored)
    iterations = int(iterations_)
    hashed = await asyncio.to_thread(user_table.hash_password, password, salt, iterations)
    if not hmac.compare_digest(hashed, stored):
        return None
    if iterations != user_table._pbkdf2_iteration_count:
        new_hash = await asyncio.to_thread(user_table.hash_password, password)
        await user_table.update({user_table.password: new_hash}).where(
            user_table.username == username
        )
    await user_table.update({user_table.last_login: datetime.datetime.now()}).where(
        user_table.username == username
    )
    return row["id"]


async def update_password_off_loop(
    user_table: type[BaseUser], user: str | int, password: str
) -> None:
    """`BaseUser.update_password` with its hashing in a worker thread (piccolo-api's
    change-password page calls it after the login above): the same validation (its
    ValueError for a password too short or too long), the same row chosen by id or
    username. Repeated for the same reason as login_off_loop; the same test watches it."""
    if isinstance(user, str):
        clause = user_table.username == user
    elif isinstance(user, int):
        clause = user_table.id == user
    else:
        raise ValueError("The `user` arg must be a user id, or a username.")
    hashed = await hash_off_loop(user_table, password)
    await user_table.update({user_table.password: hashed}).where(clause)


async def hash_off_loop(user_table: type[BaseUser], password: str) -> str:
    """A new password, validated as Piccolo validates one (its ValueError) and hashed in a
    worker thread."""
    user_table._validate_password(password=password)
    return await asyncio.to_thread(user_table.hash_password, password)


async def create_user_off_loop(
    user_table: type[BaseUser], username: str, password: str, **extra_params: Any
) -> BaseUser:
    """`BaseUser.create_user` (piccolo-api's add form of the logins page calls it) with its
    hashing in a worker thread: the same validation, and the constructor keeps a password
    that is already a hash as it is. The same test watches it."""
    if not username:
        raise ValueError("A username must be provided.")
    hashed = await hash_off_loop(user_table, password)
    user = user_table(username=username, password=hashed, **extra_params)
    await user.save()
    return user
