"""The failed-login throttle's memory (refresh/web/throttle.py): however many distinct
keys fail, it tracks at most `max_keys` of them, and at most `limit` timestamps per key;
fresh keys never push a blocked one out while an unblocked one is left to forget. And
what a client is counted by (`client_key`).

No database, no app: FailureThrottle alone, on a clock the test moves. (The throttle in
the admin's login: tests/apps/admin/test_login.py.)"""

from __future__ import annotations

import pytest

from refresh.web.throttle import FailureThrottle, client_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_tracked_keys_never_exceed_max_keys() -> None:
    """Ten thousand distinct clients failing once each, all within the window (so
    nothing expires on its own): the table holds at most `max_keys` of them at any time,
    and it is the most recent ones that stay."""
    clock = Clock()
    throttle = FailureThrottle(limit=2, window_seconds=300, max_keys=50, clock=clock)
    sizes = []
    for i in range(10_000):
        clock.now += 0.001
        throttle.fail(f"client-{i}")
        sizes.append(len(throttle))
    assert max(sizes) == 50  # reached, never passed
    assert throttle.tracked() == [f"client-{i}" for i in range(9_950, 10_000)]


def test_the_least_recently_failing_key_is_dropped_first() -> None:
    """When a new key would pass `max_keys`, the key dropped is the unblocked one whose
    latest failure is the oldest: a key that fails again moves to the back of the line
    (and asking `retry_after` about a key does not)."""
    clock = Clock()
    throttle = FailureThrottle(limit=2, window_seconds=300, max_keys=3, clock=clock)
    for key in ("a", "b", "c"):
        clock.now += 1
        throttle.fail(key)
    clock.now += 1
    throttle.fail("a")  # now the most recent failure: "b" is the least recent
    assert throttle.retry_after("a") > 0  # blocked: two failures, the limit
    assert throttle.retry_after("b") == 0  # asked about, but that is not a failure
    clock.now += 1
    throttle.fail("d")
    assert len(throttle) == 3
    assert throttle.tracked() == ["c", "d", "a"]  # "b" was dropped; "a" goes last
    assert throttle.retry_after("a") > 0  # the block on "a" is kept
    clock.now += 1
    throttle.fail("e")  # then "c", which last failed before "d"
    assert throttle.tracked() == ["d", "e", "a"]


def test_one_key_failing_many_times_keeps_at_most_limit_timestamps() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=5, window_seconds=300, max_keys=10, clock=clock)
    for _ in range(10_000):
        clock.now += 0.001
        throttle.fail("client")
    assert len(throttle) == 1
    assert len(throttle._blocked["client"]) == 5
    assert throttle.retry_after("client") > 0


def test_fresh_keys_do_not_lift_a_block() -> None:
    """The attack on a bounded table: after a client is blocked, `max_keys` times over
    as many fresh clients fail once each. The block holds, and the table stays bounded."""
    clock = Clock()
    throttle = FailureThrottle(limit=3, window_seconds=300, max_keys=50, clock=clock)
    for _ in range(3):
        throttle.fail("attacker")
    for i in range(10_000):
        clock.now += 0.001
        throttle.fail(f"fresh-{i}")
        assert len(throttle) <= 50
    assert throttle.retry_after("attacker") > 0
    assert throttle.tracked()[-1] == "attacker"


def test_when_every_key_is_blocked_the_least_recently_failing_is_forgotten() -> None:
    """Memory stays bounded even when every key is blocked (limit 1: one failure
    blocks): then the oldest block goes, and its key counts from one again."""
    clock = Clock()
    throttle = FailureThrottle(limit=1, window_seconds=300, max_keys=3, clock=clock)
    for key in ("a", "b", "c", "d"):
        clock.now += 1
        throttle.fail(key)
    assert throttle.tracked() == ["b", "c", "d"]
    assert throttle.retry_after("a") == 0
    assert all(throttle.retry_after(key) > 0 for key in "bcd")


def test_a_block_that_expires_counts_as_unblocked() -> None:
    """Once the window has passed some of a blocked key's failures, it is below the
    limit again: not refused, and forgotten before a key that is still blocked."""
    clock = Clock()
    throttle = FailureThrottle(limit=2, window_seconds=100, max_keys=2, clock=clock)
    throttle.fail("old")
    clock.now += 60
    throttle.fail("old")  # blocked until the first failure is 100 s old
    throttle.fail("new")
    throttle.fail("new")  # blocked too
    clock.now += 50
    assert throttle.retry_after("old") == 0  # one failure left in the window
    assert throttle.retry_after("new") > 0
    throttle.fail("fresh")
    assert throttle.tracked() == ["fresh", "new"]


def test_a_table_full_of_ended_blocks_still_counts_new_clients() -> None:
    """Every slot taken by blocks whose window has passed: a new client takes the
    place of one of them, and is blocked at its limit like any other."""
    clock = Clock()
    throttle = FailureThrottle(limit=2, window_seconds=100, max_keys=3, clock=clock)
    for key in ("a", "b", "c"):
        throttle.fail(key)
        throttle.fail(key)
    clock.now += 200  # every block has ended
    for key in ("d", "e", "f", "g"):
        throttle.fail(key)
        throttle.fail(key)
        assert throttle.retry_after(key) > 0, key
        assert len(throttle) <= 3


def test_a_table_full_of_live_blocks_gives_up_its_oldest_for_a_new_client() -> None:
    """Every slot a live block: the new client is counted (in the place of the block
    that failed least recently) and blocked at its limit; the other blocks hold."""
    clock = Clock()
    throttle = FailureThrottle(limit=2, window_seconds=300, max_keys=3, clock=clock)
    for key in ("a", "b", "c"):
        clock.now += 1
        throttle.fail(key)
        throttle.fail(key)
    throttle.fail("d")
    assert throttle.tracked() == ["d", "b", "c"]
    throttle.fail("d")
    assert throttle.retry_after("d") > 0
    assert throttle.retry_after("b") > 0 and throttle.retry_after("c") > 0


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::9", "2001:db8:1:2::/64"),  # the same line, another address
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  # the next line
        ("::ffff:203.0.113.7", "203.0.113.7"),  # an IPv4 client on a dual-stack socket
        ("unknown", "unknown"),  # no peer address (a test client, a unix socket)
    ],
)
def test_a_client_is_counted_by_its_address_or_its_ipv6_64(address: str, key: str) -> None:
    assert client_key(address) == key
