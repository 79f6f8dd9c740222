"""The failed-login throttle's memory (refresh/web/throttle.py): however many distinct
keys fail, it tracks at most `max_keys` of them, and at most `limit` timestamps per key.

No database, no app: FailureThrottle alone, on a clock the test moves. (The throttle in
the admin's login: tests/apps/admin/test_login.py.)"""

from __future__ import annotations

from refresh.web.throttle import FailureThrottle


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
    assert list(throttle._failures) == [f"client-{i}" for i in range(9_950, 10_000)]


def test_the_least_recently_failing_key_is_dropped_first() -> None:
    """When a new key would pass `max_keys`, the key dropped is the one whose latest
    failure is the oldest: a key that fails again moves to the back of the line (and
    asking `retry_after` about a key does not). A dropped key is forgotten, block and
    all: its next failure counts from one."""
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
    assert list(throttle._failures) == ["c", "a", "d"]  # "b" was dropped
    assert throttle.retry_after("a") > 0  # the block on "a" is kept
    clock.now += 1
    throttle.fail("e")  # then "c", which last failed before "a" and "d"
    assert list(throttle._failures) == ["a", "d", "e"]


def test_one_key_failing_many_times_keeps_at_most_limit_timestamps() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=5, window_seconds=300, max_keys=10, clock=clock)
    for _ in range(10_000):
        clock.now += 0.001
        throttle.fail("client")
    assert len(throttle) == 1
    assert len(throttle._failures["client"]) == 5
    assert throttle.retry_after("client") > 0
