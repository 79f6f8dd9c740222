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


def test_blocks_take_at_most_half_the_table() -> None:
    """Every key blocked (limit 1: one failure blocks): blocks keep at most half the
    places, the least recently failing going first, and a forgotten one counts from
    one again."""
    clock = Clock()
    throttle = FailureThrottle(limit=1, window_seconds=300, max_keys=6, clock=clock)
    for key in "abcde":
        clock.now += 1
        throttle.fail(key)
    assert throttle.tracked() == ["c", "d", "e"]
    assert throttle.retry_after("a") == 0 and throttle.retry_after("b") == 0
    assert all(throttle.retry_after(key) > 0 for key in "cde")


def test_two_clients_failing_in_turn_are_blocked_however_full_the_table() -> None:
    """The table as full of blocks and counts as it gets, then two clients fail in
    turn: neither pushes the other out, and both are blocked at the limit."""
    clock = Clock()
    throttle = FailureThrottle(limit=3, window_seconds=300, max_keys=10, clock=clock)
    for i in range(20):
        for _ in range(3):
            throttle.fail(f"blocked-{i}")
    for i in range(20):
        throttle.fail(f"counting-{i}")
    assert len(throttle) == 10
    for _ in range(3):
        throttle.fail("a")
        throttle.fail("b")
    assert throttle.retry_after("a") > 0 and throttle.retry_after("b") > 0


def test_a_block_that_expires_counts_as_unblocked() -> None:
    """A block ends with the window: the key is not refused, counts again, and is
    forgotten as the least recently failing key that counts, before the block of a key
    whose last failure is older but whose block still holds."""
    clock = Clock()
    throttle = FailureThrottle(limit=2, window_seconds=100, max_keys=4, clock=clock)
    throttle.fail("old")  # t = 0
    clock.now += 50
    throttle.fail("held")
    throttle.fail("held")  # t = 50: blocked until t = 150
    clock.now += 40
    throttle.fail("old")  # t = 90: blocked until t = 100
    assert throttle.tracked() == ["held", "old"]
    clock.now += 20  # t = 110
    assert throttle.retry_after("old") == 0  # one failure left in the window
    assert throttle.retry_after("held") > 0
    for key in ("fresh-1", "fresh-2", "fresh-3"):
        throttle.fail(key)
    assert throttle.tracked() == ["fresh-1", "fresh-2", "fresh-3", "held"]


def test_a_table_full_of_ended_blocks_still_counts_new_clients() -> None:
    """Blocks whose window has passed: each new client is counted, and blocked at its
    limit like any other."""
    clock = Clock()
    throttle = FailureThrottle(limit=2, window_seconds=100, max_keys=4, clock=clock)
    for key in ("a", "b"):
        throttle.fail(key)
        throttle.fail(key)
    clock.now += 200  # every block has ended
    for key in ("d", "e", "f", "g"):
        throttle.fail(key)
        throttle.fail(key)
        assert throttle.retry_after(key) > 0, key
        assert len(throttle) <= 4


def test_ended_blocks_make_room_before_a_count_is_forgotten() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=2, window_seconds=100, max_keys=4, clock=clock)
    for key in ("a", "b"):
        throttle.fail(key)
        throttle.fail(key)
    clock.now += 200  # both blocks, and every failure in them, have ended
    for key in ("c", "d", "e"):
        throttle.fail(key)
    assert throttle.tracked() == ["c", "d", "e"]


def test_a_table_needs_room_for_blocks_and_counts() -> None:
    with pytest.raises(ValueError, match="max_keys"):
        FailureThrottle(limit=3, window_seconds=300, max_keys=1)


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
